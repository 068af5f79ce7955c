// The overview dashboard: where the disk went on one Docker host or a fleet of them. One file a
// row (two rows in disk.ts, which share the forecast), called here in the order they show: that
// order sets the panels' ids and places.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { Board } from './lib.js';
import { containersRow } from './overview/containers.js';
import { rootFilesystemRow, whereTheDiskWentRow } from './overview/disk.js';
import { imagesRow } from './overview/images.js';
import { kubernetesRow } from './overview/kubernetes.js';
import { ownersRow } from './overview/owners.js';
import { reclaimRow } from './overview/reclaim.js';
import { scanHealthRow } from './overview/scan-health.js';
import { storageDriverRow } from './overview/storage-driver.js';
import { storesRow } from './overview/stores.js';
import { volumesRow } from './overview/volumes.js';

export { FORECAST } from './overview/disk.js';

export const OVERVIEW_UID = 'layerdu-overview';

export function overview(): Dashboard {
  const b = new Board(
    OVERVIEW_UID,
    'layerdu: Docker disk usage',
    'Where the disk went on Docker hosts: true bytes of image layers (shared and unique), containers, logs, volumes, build cache and orphaned layer directories, each byte counted once. From the layerdu exporter.',
  );

  whereTheDiskWentRow(b);
  reclaimRow(b);
  rootFilesystemRow(b);
  imagesRow(b);
  containersRow(b);
  volumesRow(b);
  ownersRow(b);
  kubernetesRow(b);
  storageDriverRow(b);
  storesRow(b);
  scanHealthRow(b);

  return b.build();
}
