// What each clean-up would free now (../shared/contract.md, "Reclaim"), worked out by removing
// objects from a model of the host, never by running anything. The host is the objects Docker
// removes (containers, images, volumes, build cache) and the units they hold (layers, snapshots,
// blobs); a unit is freed only when nothing that survives still holds it. Each object also takes
// its records with it (a container's directory, an image's config, a layer's layerdb entry and the
// rest of its directory). Which objects a prune removes follows the daemon's own rules
// (moby daemon/images/image_prune.go, daemon/prune.go), which changed with API 1.42 for volumes.
import type { Bytes } from '../../collectors/lib/facts.js';
import type { ReclaimReport } from './report.js';

export interface ReclaimImage {
  id: string;
  tags: string[];
  digests: string[];
  parent: string | null;
  /** The units it holds (layer and blob keys). */
  units: string[];
  /** Its layers, bottom first, as BuildKit compares them with a cache record's (`chain`). */
  chain: string[];
}

export interface ReclaimContainer {
  id: string;
  imageId: string;
  state: string;
  volumes: string[];
  /** Its own units (writable and init layers): removing it frees them with its records. */
  units: string[];
}

export interface ReclaimVolume {
  name: string;
  /** Docker 23+ labels the volumes it makes for a container (`com.docker.volume.anonymous`). */
  anonymous: boolean;
}

export interface ReclaimFacts {
  store: string;
  /** The daemon's API version (`1.45`); null when the API did not answer. */
  apiVersion: string | null;
  images: ReclaimImage[];
  containers: ReclaimContainer[];
  volumes: ReclaimVolume[];
  /**
   * Build cache records: what `docker builder prune -a` removes. Without -a BuildKit keeps a
   * record it calls shared: one whose `chain` (non-empty) an image's chain begins with. `units`:
   * image units the record holds (a layer it exported, an image it pulled), freed only with it.
   */
  buildCache: Array<{ id: string; chain: string[]; units?: string[] }>;
  /** Units something no prune removes holds (BuildKit's build history). */
  permanent?: string[];
  /**
   * Units nothing holds that containerd's garbage collection removes the next time it runs: when
   * an image or a build record goes (containerd store).
   */
  loose?: string[];
  /** Bytes of every unit, object record and volume, by key (`layer:…`, `image:…`, `container:…`, `volume:…`, `cache:…`). */
  bytes: ReadonlyMap<string, Bytes>;
  /** Named, not run: container logs without a size limit, orphans, inactive stores. */
  unboundedLogs: Array<{ id: string; bytes: Bytes }>;
  orphans: Bytes;
  inactiveStores: Bytes;
}

/** What is on the host: the objects present. */
interface World {
  containers: Set<string>;
  images: Set<string>;
  volumes: Set<string>;
  cache: Set<string>;
  /** Whether containerd's garbage collection has run since (it takes the loose units). */
  collected: boolean;
}

/** `1.41` < `1.42`; null (unknown) reads as current Docker. */
export function apiAtLeast(version: string | null, want: string): boolean {
  if (version === null) return true;
  const [a, b] = [version, want].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a!.length, b!.length); i++) {
    const d = (a![i] ?? 0) - (b![i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** Docker's `IsRunning()`: paused and restarting containers run; prune takes the others. */
const STOPPED = new Set(['created', 'exited', 'dead']);

export function reclaimReports(f: ReclaimFacts): { reclaim: ReclaimReport[]; rmi: Map<string, Bytes> } {
  const imageById = new Map(f.images.map((i) => [i.id, i]));
  const containerById = new Map(f.containers.map((c) => [c.id, c]));
  const of = (key: string): Bytes => f.bytes.get(key) ?? { disk: 0, apparent: 0 };
  // On API 1.42+ `volume prune` takes anonymous volumes only, unless given --all (-a).
  const namedVolumesNeedAll = apiAtLeast(f.apiVersion, '1.42');

  const imageKeys = (id: string): string[] => [`image:${id}`, ...(imageById.get(id)?.units ?? [])];
  /**
   * What each holder in the world holds: every object (its record and its units), what no prune
   * removes, and, until containerd's collection runs, the loose units (holder `loose`).
   */
  const eachHolding = (w: World, take: (holder: string, keys: readonly string[]) => void): void => {
    for (const id of w.images) take(`image:${id}`, imageKeys(id));
    for (const id of w.containers) {
      const c = containerById.get(id)!;
      // A container's image cannot go while it exists; its units stay with it in any case.
      take(`container:${id}`, [`container:${id}`, ...c.units, ...(imageById.get(c.imageId)?.units ?? [])]);
    }
    for (const v of w.volumes) take(`volume:${v}`, [`volume:${v}`]);
    take('permanent', f.permanent ?? []);
    if (!w.collected) take('loose', f.loose ?? []);
    for (const c of f.buildCache) if (w.cache.has(c.id)) take(`cache:${c.id}`, [`cache:${c.id}`, ...(c.units ?? [])]);
  };
  const sumOf = (keys: Iterable<string>): Bytes => {
    const sum = { disk: 0, apparent: 0 };
    for (const k of keys) {
      const b = of(k);
      sum.disk += b.disk;
      sum.apparent += b.apparent;
    }
    return sum;
  };

  /** Every byte the world holds: its objects, their records, and each unit any of them holds once. */
  const bytesOf = (w: World): Bytes => {
    const keys = new Set<string>();
    eachHolding(w, (_, held) => {
      for (const k of held) keys.add(k);
    });
    return sumOf(keys);
  };

  const start = (): World => ({
    containers: new Set(f.containers.map((c) => c.id)),
    images: new Set(f.images.map((i) => i.id)),
    volumes: new Set(f.volumes.map((v) => v.name)),
    cache: new Set(f.buildCache.map((c) => c.id)),
    collected: false,
  });
  const usedImages = (w: World) => new Set([...w.containers].map((id) => containerById.get(id)!.imageId));
  // Each image's children, once: asked of every image, a scan of the list each time is quadratic.
  const children = new Map<string, string[]>();
  for (const id of new Set(f.images.map((i) => i.id))) {
    const parent = imageById.get(id)!.parent;
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), id]);
  }
  const hasChildren = (present: (id: string) => boolean, id: string) => (children.get(id) ?? []).some(present);
  const untagged = (i: ReclaimImage) => i.tags.length === 0;

  /**
   * The images deleting `id` removes: it, then, as `rmi` does (PruneChildren), each untagged
   * parent nothing else needs. `present`: the images on the host before; `used`: those its
   * containers run.
   */
  const removedWith = (present: (id: string) => boolean, id: string, used: ReadonlySet<string>): string[] => {
    const gone = [id];
    const left = (i: string) => present(i) && !gone.includes(i);
    for (let p = imageById.get(id)?.parent ?? null; p !== null && left(p); ) {
      const parent = imageById.get(p)!;
      if (!untagged(parent) || parent.digests.length > 0 || used.has(p) || hasChildren(left, p)) break;
      gone.push(p);
      p = parent.parent;
    }
    return gone;
  };
  const deleteImage = (w: World, id: string, used: ReadonlySet<string> = usedImages(w)): void => {
    for (const g of removedWith((i) => w.images.has(i), id, used)) w.images.delete(g);
  };

  const containerPrune = (w: World): number => {
    let n = 0;
    for (const id of [...w.containers]) {
      if (!STOPPED.has(containerById.get(id)!.state)) continue;
      w.containers.delete(id);
      n++;
    }
    return n;
  };

  /**
   * Dangling: untagged images no other image has as parent (a digest alone is no tag); all: every
   * image but build intermediates, whose turn comes when their last child goes. An image a
   * container uses is never removed, nor are the parents it needs.
   */
  const imagePrune = (w: World, all: boolean): number => {
    const n = imagesPruned(w, all);
    if (n > 0) w.collected = true;
    return n;
  };
  const imagesPruned = (w: World, all: boolean): number => {
    const before = w.images.size;
    const used = usedImages(w);
    const present = (id: string) => w.images.has(id);
    const candidates = [...w.images].filter((id) => {
      const img = imageById.get(id)!;
      const parentOfSome = hasChildren(present, id);
      if (!all) return !parentOfSome && untagged(img);
      return !(img.tags.length === 0 && img.digests.length === 0 && parentOfSome);
    });
    // Children before parents, so that a parent emptied of children goes in the same prune.
    const depth = (id: string) => {
      let d = 0;
      for (let p = imageById.get(id)?.parent ?? null; p !== null && d < 1000; p = imageById.get(p)?.parent ?? null) d++;
      return d;
    };
    const depths = new Map(candidates.map((id) => [id, depth(id)]));
    for (const id of candidates.sort((a, b) => depths.get(b)! - depths.get(a)!)) {
      if (!w.images.has(id) || used.has(id) || hasChildren(present, id)) continue;
      deleteImage(w, id, used);
    }
    return before - w.images.size;
  };

  const volumePrune = (w: World, all: boolean): number => {
    const mounted = new Set([...w.containers].flatMap((id) => containerById.get(id)!.volumes));
    const anonymous = new Map(f.volumes.map((v) => [v.name, v.anonymous]));
    let n = 0;
    for (const v of [...w.volumes]) {
      if (mounted.has(v) || (!all && namedVolumesNeedAll && !anonymous.get(v))) continue;
      w.volumes.delete(v);
      n++;
    }
    return n;
  };

  const startsWith = (chain: string[], prefix: string[]) => prefix.every((t, i) => chain[i] === t);
  const shared = (w: World, chain: string[]) => chain.length > 0 && [...w.images].some((id) => startsWith(imageById.get(id)!.chain, chain));
  const builderPrune = (w: World, all: boolean): number => {
    let n = 0;
    for (const c of f.buildCache) {
      if (!w.cache.has(c.id) || (!all && shared(w, c.chain))) continue;
      w.cache.delete(c.id);
      n++;
    }
    if (n > 0) w.collected = true;
    return n;
  };

  // Every plan starts from the host as it is: its bytes are summed once.
  const before = bytesOf(start());
  const planned = (action: string, command: string, run: (w: World) => number): ReclaimReport => {
    const w = start();
    const objects = run(w);
    const after = bytesOf(w);
    return { action, command, disk: before.disk - after.disk, apparent: before.apparent - after.apparent, objects };
  };
  const volumeAll = namedVolumesNeedAll ? 'docker volume prune -a -f' : 'docker volume prune -f';
  const reclaim: ReclaimReport[] = [
    planned('container-prune', 'docker container prune -f', containerPrune),
    planned('image-prune', 'docker image prune -f', (w) => imagePrune(w, false)),
    planned('image-prune-all', 'docker image prune -a -f', (w) => imagePrune(w, true)),
    planned('volume-prune', 'docker volume prune -f', (w) => volumePrune(w, false)),
    planned('volume-prune-all', volumeAll, (w) => volumePrune(w, true)),
    planned('builder-prune', 'docker builder prune -f', (w) => builderPrune(w, false)),
    planned('builder-prune-all', 'docker builder prune -a -f', (w) => builderPrune(w, true)),
    // The CLI's order: containers, networks, volumes (with --volumes), images, build cache.
    planned('system-prune', 'docker system prune -f', (w) => containerPrune(w) + imagePrune(w, false) + builderPrune(w, false)),
    planned('system-prune-all', 'docker system prune -a --volumes -f', (w) => containerPrune(w) + volumePrune(w, false) + imagePrune(w, true) + builderPrune(w, true)),
    named('logs', f.unboundedLogs.map((l) => l.bytes), f.unboundedLogs.length),
    named('orphans', [f.orphans], f.orphans.disk > 0 ? 1 : 0),
    named('inactive-store', [f.inactiveStores], f.inactiveStores.disk > 0 ? 1 : 0),
  ];

  // `docker rmi` of each image alone (then containerd's collection): what it frees is each key
  // whose every holder goes, the images removed and the loose units. Each key's holders on the
  // host as it is are counted once, so that no image sums the whole host again.
  const host = start();
  const holders = new Map<string, number>();
  const count = (into: Map<string, number>, keys: readonly string[]) => {
    for (const k of new Set(keys)) into.set(k, (into.get(k) ?? 0) + 1);
  };
  eachHolding(host, (_, keys) => count(holders, keys));
  const used = usedImages(host);
  const onHost = (id: string) => host.images.has(id);
  const rmi = new Map<string, Bytes>();
  for (const img of f.images) {
    // An image a container uses or another is built on is not removed: nothing to sum again.
    if (used.has(img.id) || hasChildren(onHost, img.id)) {
      rmi.set(img.id, { disk: 0, apparent: 0 });
      continue;
    }
    const going = new Map<string, number>();
    for (const id of removedWith(onHost, img.id, used)) count(going, imageKeys(id));
    count(going, f.loose ?? []);
    rmi.set(img.id, sumOf([...going].filter(([k, n]) => n === holders.get(k)).map(([k]) => k)));
  }
  return { reclaim, rmi };
}

/** An action only a person should take: its bytes, and no command to paste. */
function named(action: string, parts: Bytes[], objects: number): ReclaimReport {
  return {
    action,
    command: null,
    disk: parts.reduce((s, b) => s + b.disk, 0),
    apparent: parts.reduce((s, b) => s + b.apparent, 0),
    objects,
  };
}
