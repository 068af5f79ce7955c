// The report as Prometheus gauges, named by ../shared/contract.md. Every gauge is reset and
// refilled from one finished report, so series of removed images, containers, layers and volumes
// vanish at the next scan, and a scrape never sees half a scan.
import { Gauge, Registry } from 'prom-client';
import type { Report } from '../model/report.js';
import { CAP_HELP, CAPPED_GAUGES, CAPPED_KINDS, capForMetrics, DEFAULT_MAX_OBJECTS, OTHER } from './metrics-cap.js';
import { logSeries } from './metrics-logs.js';

const FROM_LAST_SCAN = ' (from the last finished scan)';

export class ReportMetrics {
  private readonly gauges: Gauge[] = [];

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    const g = new Gauge<L>({ name, help: help + (CAPPED_GAUGES.has(name) ? CAP_HELP : '') + FROM_LAST_SCAN, labelNames, registers: [this.registry] });
    this.gauges.push(g as unknown as Gauge);
    return g;
  }

  readonly imageBytes;
  readonly imageApparent;
  readonly imageContent;
  readonly layerBytes;
  readonly imageLayerInfo;
  readonly layerImages;
  readonly containerBytes;
  readonly copiedUp;
  readonly wasted;
  readonly orphanBytes;
  readonly volumeBytes;
  readonly ownerBytes;
  readonly reclaimable;
  readonly imageRmi;
  readonly logUnbounded;
  readonly logGrowth;
  readonly kubeletImagefs;
  readonly kubernetesImage;
  readonly kubernetesPods;
  readonly kubernetesContainers;
  readonly hostBytes;
  readonly storeBytes;
  readonly naiveVirtual;
  readonly driverInfo;
  readonly hostInfo;
  readonly dtype;
  readonly vfsFallback;
  readonly vfsDuplicate;
  readonly fsSize;
  readonly fsAvail;
  readonly scanDuration;
  readonly lastScan;
  readonly scanSuccess;
  readonly collectorSuccess;
  readonly collectorDuration;
  readonly apiUp;
  readonly layersWalked;
  readonly layersReused;
  readonly scanErrors;
  readonly seriesCapped;

  /** `maxObjects`: --metrics.max-objects, the cap on each kind's per-object series (0: none). */
  constructor(
    readonly registry: Registry,
    private readonly maxObjects = DEFAULT_MAX_OBJECTS,
  ) {
    this.imageBytes = this.gauge('layerdu_image_bytes', 'Disk bytes of a listed image, split into layers shared with other listed images and its own', ['image_id', 'image', 'scope']);
    this.imageApparent = this.gauge('layerdu_image_apparent_bytes', "Apparent bytes of a listed image (Docker's Size and SharedSize basis)", ['image_id', 'image', 'scope']);
    this.imageContent = this.gauge('layerdu_image_content_bytes', "Disk bytes of a listed image's content blobs (containerd store: the compressed copies kept beside the snapshots)", ['image_id', 'image']);
    this.layerBytes = this.gauge('layerdu_layer_bytes', 'Disk bytes of one image layer, counted once however many images share it', ['chain_id', 'cache_id']);
    this.imageLayerInfo = this.gauge('layerdu_image_layer_info', 'The sharing graph: an image holds a layer at a position (0 = bottom)', ['image_id', 'chain_id', 'position']);
    this.layerImages = this.gauge('layerdu_layer_images', 'Number of listed images that contain the layer', ['chain_id']);
    this.containerBytes = this.gauge('layerdu_container_bytes', "Disk bytes of a container's writable layer, init layer and logs", ['container_id', 'name', 'image_id', 'scope']);
    this.copiedUp = this.gauge('layerdu_container_copied_up_bytes', 'Disk bytes in the writable layer at paths the image already had (overlayfs copy_up)', ['container_id', 'name']);
    this.wasted = this.gauge('layerdu_wasted_bytes', "Disk bytes of files in an image's lower layers that its upper layers delete or overwrite", ['image_id', 'image']);
    this.orphanBytes = this.gauge('layerdu_orphan_bytes', 'Disk bytes of a storage-driver directory nothing refers to', ['id']);
    this.volumeBytes = this.gauge('layerdu_volume_bytes', 'Disk bytes of a named volume', ['name']);
    this.ownerBytes = this.gauge('layerdu_owner_bytes', "Disk bytes of an owner (compose project, Kubernetes namespace or pod, --owner.label value): its containers' writable (with -init) and log bytes, the volumes only it mounts, image units only its images hold (images_exclusive) and the rest of the images it runs", ['kind', 'name', 'scope']);
    this.reclaimable = this.gauge('layerdu_reclaimable_bytes', 'Disk bytes a clean-up would free under the roots if it ran now, alone (its records included); logs, orphans and inactive-store are named, not run', ['action']);
    this.imageRmi = this.gauge('layerdu_image_rmi_bytes', 'Disk bytes docker rmi of the image would free now, its records included: 0 while a container uses it', ['image_id', 'image']);
    this.logUnbounded = this.gauge('layerdu_container_log_unbounded', "1 for a container whose json-file logs have no max-size: Docker never rotates them", ['container_id', 'name']);
    this.logGrowth = this.gauge('layerdu_container_log_growth_bytes_per_second', "How fast an unbounded container log grew between the agent's last two scans (disk bytes a second)", ['container_id', 'name']);
    this.kubeletImagefs = this.gauge('layerdu_kubelet_imagefs_used_bytes', "What the kubelet's imagefs used bytes say on a Kubernetes node: every snapshot of containerd's k8s.io namespace, the pods' writable layers (container_layers) counted as image bytes, the compressed blobs left out", ['namespace', 'part']);
    this.kubernetesImage = this.gauge('layerdu_kubernetes_image_bytes', "True disk bytes of a Kubernetes node's images: their unpacked layers and the compressed blobs kept beside them (content)", ['namespace', 'part']);
    this.kubernetesPods = this.gauge('layerdu_kubernetes_pods', 'Pods whose sandboxes or containers containerd records in the k8s.io namespace', ['namespace']);
    this.kubernetesContainers = this.gauge('layerdu_kubernetes_containers', "Containers containerd records in the k8s.io namespace, by the CRI's kind (container or sandbox)", ['namespace', 'kind']);
    this.hostBytes = this.gauge('layerdu_host_bytes', 'Disk bytes under the docker root by category, each byte counted once (other: metadata and bookkeeping)', ['category']);
    this.storeBytes = this.gauge('layerdu_store_bytes', 'Disk bytes under an image store\'s roots; an inactive store is hidden by Docker, not freed', ['store', 'active']);
    this.naiveVirtual = this.gauge('layerdu_naive_virtual_bytes', "What adding up every image's and container's virtual size claims");
    this.driverInfo = this.gauge('layerdu_storage_driver_info', 'The storage driver in use, and its image store', ['driver', 'backing_fs', 'docker_root', 'store']);
    this.hostInfo = this.gauge('layerdu_host_info', "The host: its OS (distribution and release), kernel, and the device under the docker root (device_type: nvme, ssd, hdd, virtual or unknown)", ['os', 'kernel', 'device_type', 'device']);
    this.dtype = this.gauge('layerdu_dtype_supported', 'Whether the filesystem under the docker root supports d_type (absent when unknown)');
    this.vfsFallback = this.gauge('layerdu_vfs_fallback', 'Whether the daemon runs vfs although overlay is available');
    this.vfsDuplicate = this.gauge('layerdu_vfs_duplicate_bytes', 'Bytes vfs stores beyond what overlay2 would');
    this.fsSize = this.gauge('layerdu_filesystem_size_bytes', 'Size of the filesystem holding the docker root', ['mountpoint', 'fstype']);
    this.fsAvail = this.gauge('layerdu_filesystem_avail_bytes', 'Bytes available to unprivileged users on the filesystem holding the docker root', ['mountpoint', 'fstype']);
    this.scanDuration = this.gauge('layerdu_scan_duration_seconds', 'Duration of the last finished scan');
    this.lastScan = this.gauge('layerdu_last_scan_timestamp_seconds', 'When the last scan finished, in Unix seconds');
    this.scanSuccess = this.gauge('layerdu_scan_success', 'Whether the last scan read the disk without any problem (the Docker API has layerdu_docker_api_up)');
    this.collectorSuccess = this.gauge('layerdu_collector_success', 'Whether a collector finished without any problem in the last scan', ['collector']);
    this.collectorDuration = this.gauge('layerdu_collector_duration_seconds', 'Duration of a collector in the last scan', ['collector']);
    this.apiUp = this.gauge('layerdu_docker_api_up', 'Whether the Docker API answered in the last scan');
    this.layersWalked = this.gauge('layerdu_scan_layers_walked', 'Image layers walked in the last scan');
    this.layersReused = this.gauge('layerdu_scan_layers_reused', 'Image layers whose earlier walk the last scan reused (committed layers never change)');
    this.scanErrors = this.gauge('layerdu_scan_errors', 'Problems met in the last scan by collector; the scan went on past each', ['collector']);
    this.seriesCapped = this.gauge('layerdu_series_capped', `Objects of a kind (image, layer, container, volume, owner, orphan) folded into the ${OTHER} series by --metrics.max-objects; the JSON report lists them all`, ['kind']);
  }

  /**
   * A gauge without labels always shows a sample once registered (0 after a reset): one that
   * must be absent when there is no value leaves the registry instead, and comes back with one.
   */
  private setOrDrop(g: Gauge, value: number | null): void {
    const name = (g as unknown as { name: string }).name;
    const registered = this.registry.getSingleMetric(name) !== undefined;
    if (value === null) {
      if (registered) this.registry.removeSingleMetric(name);
      return;
    }
    if (!registered) this.registry.registerMetric(g);
    g.set(value);
  }

  /** Replaces every series with the figures of `report`. */
  update(full: Report): void {
    for (const g of this.gauges) g.reset();
    const { report, folded, foldedImageLayers } = capForMetrics(full, this.maxObjects);
    for (const kind of CAPPED_KINDS) this.seriesCapped.set({ kind }, folded[kind]);
    const imageName = (tags: string[]) => tags[0] ?? '<none>';

    for (const i of report.images) {
      const labels = { image_id: i.id, image: imageName(i.tags) };
      this.imageBytes.set({ ...labels, scope: 'shared' }, i.disk.shared);
      this.imageBytes.set({ ...labels, scope: 'unique' }, i.disk.unique);
      this.imageApparent.set({ ...labels, scope: 'shared' }, i.apparent.shared);
      this.imageApparent.set({ ...labels, scope: 'unique' }, i.apparent.unique);
      this.wasted.set(labels, i.wasted.disk);
      this.imageContent.set(labels, i.content.disk);
      this.imageRmi.set(labels, i.rmi.disk);
      i.layers.forEach((chain, position) => this.imageLayerInfo.set({ image_id: i.id, chain_id: chain, position: String(position) }, 1));
    }
    if (foldedImageLayers) this.imageLayerInfo.set({ image_id: OTHER, chain_id: OTHER, position: OTHER }, foldedImageLayers);
    for (const l of report.layers) {
      this.layerBytes.set({ chain_id: l.chainId, cache_id: l.cacheId ?? l.snapshotId ?? '' }, l.disk);
      this.layerImages.set({ chain_id: l.chainId }, l.images.length);
    }
    for (const c of report.containers) {
      const labels = { container_id: c.id, name: c.name, image_id: c.imageId };
      this.containerBytes.set({ ...labels, scope: 'writable' }, c.writable.disk);
      this.containerBytes.set({ ...labels, scope: 'init' }, c.init.disk);
      this.containerBytes.set({ ...labels, scope: 'logs' }, c.logs);
      this.copiedUp.set({ container_id: c.id, name: c.name }, c.copiedUp.disk);
    }
    for (const s of logSeries(report.logAudit ?? [], new Set(report.containers.map((c) => c.id)))) {
      this.logUnbounded.set(s.labels, s.unbounded);
      if (s.growth !== null) this.logGrowth.set(s.labels, s.growth);
    }
    for (const o of report.orphans) this.orphanBytes.set({ id: o.id }, o.disk);
    for (const v of report.volumes) this.volumeBytes.set({ name: v.name }, v.disk);
    for (const o of report.owners) {
      const d = o.disk;
      const scopes = { writable: d.writable, logs: d.logs, volumes: d.volumes, images_exclusive: d.imagesExclusive, images_shared: d.imagesShared };
      for (const [scope, bytes] of Object.entries(scopes)) this.ownerBytes.set({ kind: o.kind, name: o.name, scope }, bytes);
    }

    for (const r of report.reclaim) this.reclaimable.set({ action: r.action }, r.disk);
    const k = report.kubernetes;
    if (k) {
      const namespace = k.namespace;
      this.kubeletImagefs.set({ namespace, part: 'image_layers' }, k.imagefs.imageLayers);
      this.kubeletImagefs.set({ namespace, part: 'container_layers' }, k.imagefs.containerLayers);
      this.kubernetesImage.set({ namespace, part: 'layers' }, k.images.layers);
      this.kubernetesImage.set({ namespace, part: 'content' }, k.images.content);
      // Labelled, so that a host without Kubernetes exports no sample of them at all.
      this.kubernetesPods.set({ namespace }, k.pods);
      this.kubernetesContainers.set({ namespace, kind: 'container' }, k.containers);
      this.kubernetesContainers.set({ namespace, kind: 'sandbox' }, k.sandboxes);
    }

    const t = report.totals.disk;
    const categories = {
      image_layers: t.imageLayers,
      image_content: t.imageContent,
      container_layers: t.containerLayers,
      volumes: t.volumes,
      logs: t.logs,
      build_cache: t.buildCache,
      orphans: t.orphans,
      other: t.other,
    };
    for (const [category, bytes] of Object.entries(categories)) this.hostBytes.set({ category }, bytes);
    this.naiveVirtual.set(report.totals.naiveVirtual);
    for (const st of report.stores) this.storeBytes.inc({ store: st.store, active: String(st.active) }, st.disk);

    const d = report.driver;
    this.driverInfo.set({ driver: d.name, backing_fs: d.backingFs ?? '', docker_root: report.dockerRoot, store: d.store }, 1);
    const h = report.host;
    if (h) this.hostInfo.set({ os: h.os, kernel: h.kernel, device_type: h.device.type, device: h.device.name ?? '' }, 1);
    // Absent when d_type is unknown, as the contract has it.
    this.setOrDrop(this.dtype, d.dType === null ? null : d.dType ? 1 : 0);
    this.vfsFallback.set(d.vfsFallback ? 1 : 0);
    this.vfsDuplicate.set(d.vfsDuplicateBytes ?? 0);
    const fs = report.filesystem;
    if (fs) {
      this.fsSize.set({ mountpoint: fs.mountpoint, fstype: fs.fstype }, fs.size);
      this.fsAvail.set({ mountpoint: fs.mountpoint, fstype: fs.fstype }, fs.avail);
    }

    const s = report.scan;
    this.scanDuration.set(s.durationSeconds);
    this.lastScan.set(Date.parse(s.finishedAt) / 1000);
    // The disk is the source of truth: an unreachable API is its own signal, not a failed scan.
    this.scanSuccess.set(report.errors.every((e) => e.source === 'docker-api') ? 1 : 0);
    for (const c of s.collectors) {
      this.collectorSuccess.set({ collector: c.name }, c.success ? 1 : 0);
      this.collectorDuration.set({ collector: c.name }, c.durationSeconds);
      this.scanErrors.set({ collector: c.name }, report.errors.filter((e) => e.source === c.name).length);
    }
    // Absent on a host without Docker (containerd alone): no API was asked, and none is down.
    this.setOrDrop(this.apiUp, report.dockerAbsent ? null : report.apiUp ? 1 : 0);
    this.layersWalked.set(s.layersWalked);
    this.layersReused.set(s.layersReused);
  }
}
