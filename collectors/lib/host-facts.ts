// What the host is: its OS and the block device under the docker root. Learnt once per process
// (collectors/host/device.ts), shown in the report's header, the JSON's `host` and the
// `layerdu_host_info` metric, and used to choose how many finds walk at once.

/** nvme and ssd are flash; hdd spins; virtual is a VM's disk (virtio, Xen, QEMU/VMware/Hyper-V). */
export type DeviceType = 'nvme' | 'ssd' | 'hdd' | 'virtual' | 'unknown';

export interface DeviceFacts {
  /** The device as the mount names it (`/dev/vda`, `/dev/mapper/vg-root`), or `/dev/<kernel name>`; null when none was found. */
  name: string | null;
  type: DeviceType;
  /** The kernel's `queue/rotational` of the disk (of its slaves, for dm and md: any that spins); null when unknown. */
  rotational: boolean | null;
  /** The disk's model, when the kernel (or systeminformation, in the agent) tells it; null otherwise. */
  model: string | null;
}

export interface HostFacts {
  /** Distribution and release, `Debian GNU/Linux 12` (systeminformation's distro and release). */
  os: string;
  /** The running kernel's release (`uname -r`). */
  kernel: string;
  device: DeviceFacts;
}

/**
 * One block device as sysfs has it: the kernel name, the resolved path of its directory under
 * `/sys/devices` (virtio, Xen, virtual/ tell a VM's disk or a device of no hardware), its queue's
 * rotational flag, its model and vendor, and the devices beneath it (dm and md: `slaves/`).
 */
export interface SysBlock {
  name: string;
  /** The path under /sys/devices, relative to the sysfs root (`devices/pci0000:00/…/virtio1/block/vda`). */
  devicePath: string;
  rotational: boolean | null;
  model: string | null;
  vendor: string | null;
  slaves: SysBlock[];
}

// Model and vendor strings of hypervisors' emulated disks: QEMU's SCSI/ATA disks, VirtualBox,
// VMware's "Virtual disk", Hyper-V's Msft "Virtual Disk", Xen's.
const VIRTUAL_MODEL = /\b(QEMU|VBOX|VMware|Virtual|Msft|Xen)\b/i;
// virtio's vendor id (0x1af4) as the PCI device shows it; vd* and xvd* are virtio's and Xen's names.
const VIRTIO_VENDOR = '0x1af4';

/** What kind of device a sysfs block entry is; dm and md devices are what their slaves are. */
export function classifyDevice(b: SysBlock): DeviceType {
  if (b.slaves.length > 0) return combine(b.slaves.map(classifyDevice));
  if (/^nvme\d/.test(b.name)) return 'nvme';
  if (/\/virtio\d*\//.test(`/${b.devicePath}/`) || /^(vd|xvd)[a-z]/.test(b.name) || b.vendor === VIRTIO_VENDOR) return 'virtual';
  if (/\/xen\//.test(`/${b.devicePath}/`) || VIRTUAL_MODEL.test(`${b.vendor ?? ''} ${b.model ?? ''}`)) return 'virtual';
  // loop, zram, ram: a file or memory, not a disk of its own.
  if (b.devicePath.startsWith('devices/virtual/')) return 'unknown';
  if (b.rotational === false) return 'ssd';
  if (b.rotational === true) return 'hdd';
  return 'unknown';
}

/** Several devices as one (a volume group, a RAID): any spinning disk makes it one. */
function combine(types: DeviceType[]): DeviceType {
  if (types.includes('hdd')) return 'hdd';
  if (types.includes('unknown')) return 'unknown';
  if (types.every((t) => t === types[0])) return types[0]!;
  if (types.includes('virtual')) return 'virtual';
  return 'ssd'; // nvme and ssd together: flash
}

/** Whether a device or any beneath it spins; null when the kernel did not say. */
export function rotationalOf(b: SysBlock): boolean | null {
  if (b.slaves.length === 0) return b.rotational;
  const all = b.slaves.map(rotationalOf);
  return all.includes(true) ? true : all.includes(null) ? null : false;
}

/** The first model among a device and the devices beneath it. */
export function modelOf(b: SysBlock): string | null {
  return b.model ?? b.slaves.map(modelOf).find((m) => m !== null) ?? null;
}

/** systeminformation's diskLayout() and blockDevices() entries, the few fields used. */
export interface SiDisk {
  device?: string;
  type?: string;
  name?: string;
  vendor?: string;
  interfaceType?: string;
}
export interface SiBlock {
  name?: string;
  type?: string;
  physical?: string;
  model?: string;
  protocol?: string;
}

/**
 * What systeminformation adds to the kernel's facts, for the disk named `kernelName`: a model
 * where sysfs had none, and a type where sysfs could not tell (its diskLayout type, NVMe, SSD or
 * HD, comes from smartctl and lsblk). It never overrides a type sysfs told: its own HDD/SSD is
 * the same rotational flag, which a virtio disk sets to 1.
 */
export function withSystemInformation(device: DeviceFacts, kernelName: string | null, disks: SiDisk[], blocks: SiBlock[]): DeviceFacts {
  if (!kernelName) return device;
  const disk = disks.find((d) => d.device === `/dev/${kernelName}`);
  const block = blocks.find((b) => b.name === kernelName);
  const siModel = [disk?.name, block?.model].map((m) => m?.trim()).find((m) => m) ?? null;
  let type = device.type;
  if (type === 'unknown') {
    const hint = `${disk?.interfaceType ?? ''} ${disk?.type ?? ''} ${block?.protocol ?? ''}`;
    if (/nvme/i.test(hint)) type = 'nvme';
    else if (siModel && VIRTUAL_MODEL.test(`${disk?.vendor ?? ''} ${siModel}`)) type = 'virtual';
    else if (/\bSSD\b/.test(hint)) type = 'ssd';
    else if (/\bHD\b/.test(hint)) type = 'hdd';
  }
  return { ...device, type, model: device.model ?? siModel };
}

/** An os-release file's `NAME VERSION_ID` (systeminformation's distro and release), else PRETTY_NAME. */
export function osOfRelease(text: string): string | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2'));
  }
  const name = fields.get('NAME');
  if (name) return fields.get('VERSION_ID') ? `${name} ${fields.get('VERSION_ID')}` : name;
  return fields.get('PRETTY_NAME') ?? null;
}
