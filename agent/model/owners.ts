// Owners (../shared/contract.md, "Owners"): who the disk is for. A compose project (its
// containers' `com.docker.compose.project` label), a Kubernetes namespace or pod (the CRI's
// `io.kubernetes.pod.*` labels), or each distinct value of a label the user names
// (`--owner.label KEY`), and what the owner's containers, volumes and images cost. Pure:
// plain facts in, figures out; buildReport prepares the facts from the scan's.
import { COMPOSE_PROJECT, COMPOSE_SERVICE, K8S_POD_NAME, K8S_POD_NAMESPACE } from '../../collectors/lib/labels.js';
import type { OwnerReport } from './report.js';

export { COMPOSE_PROJECT, COMPOSE_SERVICE } from '../../collectors/lib/labels.js';

/** One container, as far as owners need it: its labels, what it uses and its own disk bytes. */
export interface OwnedContainer {
  id: string;
  imageId: string;
  volumes: string[];
  labels: Record<string, string>;
  writable: number;
  init: number;
  logs: number;
}

export interface OwnerFacts {
  /** `--owner.label` keys. */
  ownerLabels: readonly string[];
  containers: OwnedContainer[];
  volumes: Array<{ name: string; disk: number }>;
  /**
   * The images that hold image units: the listed ones, and any other a container uses. Units are
   * opaque keys (a layer, a content blob), each counted once at `unitDisk`.
   */
  images: Array<{ id: string; units: string[] }>;
  unitDisk: ReadonlyMap<string, number>;
}

interface Owner {
  kind: OwnerReport['kind'];
  name: string;
  members: OwnedContainer[];
}

/** Groups containers by owner. An empty label value is treated as no label: it names no one. */
export function groupOwners(containers: OwnedContainer[], ownerLabels: readonly string[]): Owner[] {
  const owners = new Map<string, Owner>();
  const add = (kind: Owner['kind'], name: string, c: OwnedContainer) => {
    const key = `${kind}\0${name}`;
    const o = owners.get(key) ?? { kind, name, members: [] };
    o.members.push(c);
    owners.set(key, o);
  };
  const keys = [...new Set(ownerLabels)];
  for (const c of containers) {
    const project = c.labels[COMPOSE_PROJECT];
    if (project) add('compose-project', project, c);
    // A Kubernetes pod (its sandbox and containers) and its namespace; a pod is `<ns>/<pod>`.
    const ns = c.labels[K8S_POD_NAMESPACE];
    const pod = c.labels[K8S_POD_NAME];
    if (ns) add('k8s-namespace', ns, c);
    if (ns && pod) add('k8s-pod', `${ns}/${pod}`, c);
    for (const k of keys) {
      const v = c.labels[k];
      if (v) add('label', `${k}=${v}`, c);
    }
  }
  return [...owners.values()];
}

function usersBy(containers: OwnedContainer[], of: (c: OwnedContainer) => string[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const c of containers) {
    for (const k of of(c)) {
      const s = m.get(k) ?? new Set<string>();
      s.add(c.id);
      m.set(k, s);
    }
  }
  return m;
}

const within = (users: Set<string> | undefined, members: Set<string>): boolean => [...(users ?? [])].every((id) => members.has(id));

export function ownerReports(f: OwnerFacts): OwnerReport[] {
  const usersOfImage = usersBy(f.containers, (c) => [c.imageId]);
  const usersOfVolume = usersBy(f.containers, (c) => c.volumes);
  const diskOfVolume = new Map(f.volumes.map((v) => [v.name, v.disk]));
  const unitsOf = new Map(f.images.map((i) => [i.id, i.units]));
  // Which images hold each unit: a unit goes with the owner's images only when all its holders do.
  const holders = new Map<string, string[]>();
  for (const img of f.images) {
    for (const u of new Set(img.units)) {
      const list = holders.get(u);
      if (list) list.push(img.id);
      else holders.set(u, [img.id]);
    }
  }
  const diskOf = (units: Iterable<string>) => [...units].reduce((s, u) => s + (f.unitDisk.get(u) ?? 0), 0);

  return groupOwners(f.containers, f.ownerLabels)
    .map((o): OwnerReport => {
      const members = new Set(o.members.map((c) => c.id));
      // Init layers count as writable: `docker rm` frees both, and the contract's owner figures
      // are what removing the owner frees; a container's -init layer is its own, never shared.
      const writable = o.members.reduce((s, c) => s + c.writable + c.init, 0);
      const logs = o.members.reduce((s, c) => s + c.logs, 0);
      // Volumes that only the owner's containers mount (`docker compose down -v` frees them); one
      // that another container also mounts is left out, as shared image units are, so that no
      // owner claims a byte that removing it would not free.
      const mounted = new Set(o.members.flatMap((c) => c.volumes));
      const volumes = [...mounted].filter((v) => within(usersOfVolume.get(v), members)).reduce((s, v) => s + (diskOfVolume.get(v) ?? 0), 0);
      // The owner's images are those only its containers use; its exclusive units are the units
      // no other image holds: what removing its containers and those images frees.
      const used = new Set(o.members.map((c) => c.imageId));
      const mine = new Set([...used].filter((id) => within(usersOfImage.get(id), members)));
      const usedUnits = new Set([...used].flatMap((id) => unitsOf.get(id) ?? []));
      const exclusive = new Set(
        [...mine].flatMap((id) => unitsOf.get(id) ?? []).filter((u) => (holders.get(u) ?? []).every((h) => mine.has(h))),
      );
      const shared = [...usedUnits].filter((u) => !exclusive.has(u));
      const services: Record<string, string> = {};
      for (const c of o.members) {
        const s = c.labels[COMPOSE_SERVICE];
        if (s) services[c.id] = s;
      }
      return {
        kind: o.kind,
        name: o.name,
        containers: [...members].sort(),
        ...(o.kind === 'compose-project' ? { services } : {}),
        disk: { writable, logs, volumes, imagesExclusive: diskOf(exclusive), imagesShared: diskOf(shared) },
      };
    })
    .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
