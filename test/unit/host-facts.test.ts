// The host's facts (issue 16): the device type from sysfs facts and systeminformation's output,
// the device under a path through a staged /proc and /sys (HostPaths: --path.sysfs), the
// concurrency rule, and the header line and layerdu_host_info that show them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { ReportMetrics } from '../../agent/render/metrics.js';
import { renderText } from '../../agent/render/text.js';
import { readDevice, readOs } from '../../collectors/host/device.js';
import { hostPaths } from '../../collectors/host/paths.js';
import { classifyDevice, osOfRelease, rotationalOf, withSystemInformation, type DeviceFacts, type HostFacts, type SysBlock } from '../../collectors/lib/host-facts.js';
import { findsInFlight } from '../../collectors/walk/concurrency.js';
import { emptyReport } from './report-stub.js';

const disk = (over: Partial<SysBlock>): SysBlock => ({ name: 'sda', devicePath: 'devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda', rotational: null, model: null, vendor: null, slaves: [], ...over });

describe('host facts: the device type', () => {
  it('a virtio disk is virtual, though the kernel calls it rotational', () => {
    // This machine's /dev/vda: rotational 1, vendor 0x1af4, under virtio1.
    const vda = disk({ name: 'vda', devicePath: 'devices/pci0000:00/0000:00:02.0/virtio1/block/vda', rotational: true, vendor: '0x1af4' });
    assert.equal(classifyDevice(vda), 'virtual');
    assert.equal(classifyDevice({ ...vda, devicePath: 'devices/platform/x/block/vda', vendor: null }), 'virtual', 'by name');
    assert.equal(classifyDevice(disk({ name: 'xvda', devicePath: 'devices/vbd-51712/block/xvda', rotational: false })), 'virtual');
  });

  it("hypervisors' emulated SCSI and ATA disks are virtual by their model", () => {
    for (const [vendor, model] of [['QEMU', 'QEMU HARDDISK'], ['VMware', 'Virtual disk'], ['Msft', 'Virtual Disk'], ['ATA', 'VBOX HARDDISK']] as const) {
      assert.equal(classifyDevice(disk({ rotational: true, vendor, model })), 'virtual', `${vendor} ${model}`);
    }
  });

  it('nvme by name; otherwise the rotational flag: ssd or hdd', () => {
    assert.equal(classifyDevice(disk({ name: 'nvme0n1', devicePath: 'devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1', rotational: false, model: 'Samsung SSD 980 PRO 1TB' })), 'nvme');
    assert.equal(classifyDevice(disk({ rotational: false, vendor: 'ATA', model: 'Samsung SSD 870' })), 'ssd');
    assert.equal(classifyDevice(disk({ rotational: true, vendor: 'ATA', model: 'WDC WD40EFRX-68N' })), 'hdd');
    assert.equal(classifyDevice(disk({})), 'unknown');
  });

  it('loop and zram are no disks of their own: unknown', () => {
    assert.equal(classifyDevice(disk({ name: 'loop0', devicePath: 'devices/virtual/block/loop0', rotational: true })), 'unknown');
    assert.equal(classifyDevice(disk({ name: 'zram0', devicePath: 'devices/virtual/block/zram0', rotational: false })), 'unknown');
  });

  it('dm and md are what their disks are; one spinning disk makes them hdd', () => {
    const dm = (slaves: SysBlock[]) => disk({ name: 'dm-0', devicePath: 'devices/virtual/block/dm-0', rotational: false, slaves });
    const ssd = disk({ rotational: false });
    const hdd = disk({ name: 'sdb', rotational: true });
    const nvme = disk({ name: 'nvme0n1', rotational: false });
    assert.equal(classifyDevice(dm([ssd])), 'ssd');
    assert.equal(classifyDevice(dm([ssd, hdd])), 'hdd');
    assert.equal(rotationalOf(dm([ssd, hdd])), true);
    assert.equal(classifyDevice(dm([nvme, nvme])), 'nvme');
    assert.equal(classifyDevice(dm([nvme, ssd])), 'ssd');
  });
});

describe('host facts: systeminformation', () => {
  const vda: DeviceFacts = { name: '/dev/vda', type: 'virtual', rotational: true, model: null };

  it("adds a model, never overrides a type sysfs told (its HDD is the same rotational flag)", () => {
    // si.blockDevices() and si.diskLayout() of this machine: vda as HDD, no layout.
    const blocks = [{ name: 'vda', type: 'disk', physical: 'HDD', model: '', protocol: '' }];
    assert.deepEqual(withSystemInformation(vda, 'vda', [], blocks), vda);
    const layout = [{ device: '/dev/vda', type: 'HD', name: 'QEMU disk', vendor: '', interfaceType: '' }];
    assert.deepEqual(withSystemInformation(vda, 'vda', layout, blocks), { ...vda, model: 'QEMU disk' });
  });

  it("tells a type sysfs could not: NVMe, SSD, HD from diskLayout's interface and type", () => {
    const unknown: DeviceFacts = { name: '/dev/sda', type: 'unknown', rotational: null, model: null };
    const layout = (type: string, interfaceType: string, name = 'Some Disk') => [{ device: '/dev/sda', type, name, vendor: '', interfaceType }];
    assert.equal(withSystemInformation(unknown, 'sda', layout('NVMe', 'PCIe'), []).type, 'nvme');
    assert.equal(withSystemInformation(unknown, 'sda', layout('SSD', 'SATA'), []).type, 'ssd');
    assert.equal(withSystemInformation(unknown, 'sda', layout('HD', 'SATA'), []).type, 'hdd');
    assert.equal(withSystemInformation(unknown, 'sda', layout('HD', 'SCSI', 'VMware Virtual disk'), []).type, 'virtual');
    assert.equal(withSystemInformation(unknown, 'sdb', layout('SSD', 'SATA'), []).type, 'unknown', 'another disk');
  });

  it("os-release as systeminformation's distro and release", () => {
    assert.equal(osOfRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'), 'Debian GNU/Linux 12');
    assert.equal(osOfRelease('NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n'), 'Arch Linux');
    assert.equal(osOfRelease("PRETTY_NAME='Something'\n"), 'Something');
    assert.equal(osOfRelease('garbage'), null);
  });
});

describe('host facts: read through HostPaths', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ldu-hostfacts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A host root with /proc/self/mountinfo and a sysfs holding `disks`, each with partitions. */
  function stage(mountinfo: string, disks: Array<{ name: string; under: string; rotational?: string; model?: string; vendor?: string; parts?: Array<[string, string]>; slaves?: string[]; devno?: string }>): void {
    mkdirSync(path.join(dir, 'proc', 'self'), { recursive: true });
    writeFileSync(path.join(dir, 'proc', 'self', 'mountinfo'), mountinfo);
    mkdirSync(path.join(dir, 'sys', 'dev', 'block'), { recursive: true });
    mkdirSync(path.join(dir, 'sys', 'class', 'block'), { recursive: true });
    const link = (devno: string | undefined, name: string, rel: string) => {
      if (devno) symlinkSync(`../../${rel}`, path.join(dir, 'sys', 'dev', 'block', devno));
      symlinkSync(`../../${rel}`, path.join(dir, 'sys', 'class', 'block', name));
    };
    for (const d of disks) {
      const rel = `devices/${d.under}/block/${d.name}`;
      const abs = path.join(dir, 'sys', rel);
      mkdirSync(path.join(abs, 'queue'), { recursive: true });
      if (d.rotational !== undefined) writeFileSync(path.join(abs, 'queue', 'rotational'), `${d.rotational}\n`);
      if (d.model || d.vendor) mkdirSync(path.join(abs, 'device'));
      if (d.model) writeFileSync(path.join(abs, 'device', 'model'), `${d.model}   \n`);
      if (d.vendor) writeFileSync(path.join(abs, 'device', 'vendor'), `${d.vendor}\n`);
      if (d.slaves) {
        mkdirSync(path.join(abs, 'slaves'));
        for (const s of d.slaves) writeFileSync(path.join(abs, 'slaves', s), '');
      }
      link(d.devno, d.name, rel);
      for (const [part, devno] of d.parts ?? []) {
        mkdirSync(path.join(abs, part));
        writeFileSync(path.join(abs, part, 'partition'), '1\n');
        link(devno, part, `${rel}/${part}`);
      }
    }
  }
  const line = (devno: string, mountpoint: string, fstype: string, source: string) => `27 1 ${devno} / ${mountpoint} rw,relatime - ${fstype} ${source} rw\n`;

  it('the disk of a partition, by the mount\'s maj:min, under --path.sysfs and --path.procfs', () => {
    stage(line('8:2', '/', 'ext4', '/dev/sda2'), [{ name: 'sda', under: 'pci0000:00/ata1/host0/0:0:0:0', rotational: '1', vendor: 'ATA', model: 'WDC WD40EFRX', parts: [['sda2', '8:2']] }]);
    const host = hostPaths({ rootfs: '/', proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys') });
    assert.deepEqual(readDevice(host, '/var/lib/docker-not-there-yet'), {
      device: { name: '/dev/sda2', type: 'hdd', rotational: true, model: 'WDC WD40EFRX' },
      kernelName: 'sda',
    });
  });

  it('LVM: dm-0 is what its disks are', () => {
    stage(line('253:0', '/', 'xfs', '/dev/mapper/vg-root'), [
      { name: 'dm-0', under: 'virtual', rotational: '0', devno: '253:0', slaves: ['nvme0n1p3'] },
      { name: 'nvme0n1', under: 'pci0000:00/nvme/nvme0', rotational: '0', model: 'Samsung SSD 980', parts: [['nvme0n1p3', '259:3']] },
    ]);
    const host = hostPaths({ rootfs: '/', proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys') });
    assert.deepEqual(readDevice(host, '/'), { device: { name: '/dev/mapper/vg-root', type: 'nvme', rotational: false, model: 'Samsung SSD 980' }, kernelName: 'dm-0' });
  });

  it('an anonymous device (btrfs) by its source; no mountinfo or an unknown device is unknown', () => {
    stage(line('0:45', '/', 'btrfs', '/dev/vdb'), [{ name: 'vdb', under: 'pci0000:00/virtio2', rotational: '1', vendor: '0x1af4' }]);
    const host = hostPaths({ rootfs: dir, proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys') });
    assert.equal(readDevice(host, '/').device.type, 'virtual');
    rmSync(path.join(dir, 'sys', 'class', 'block', 'vdb'));
    assert.deepEqual(readDevice(host, '/').device, { name: '/dev/vdb', type: 'unknown', rotational: null, model: null });
    const none = hostPaths({ rootfs: dir, proc: path.join(dir, 'nope'), sys: path.join(dir, 'sys') });
    assert.deepEqual(readDevice(none, '/').device, { name: null, type: 'unknown', rotational: null, model: null });
  });

  it('the OS from os-release under --path.rootfs', () => {
    mkdirSync(path.join(dir, 'etc'));
    writeFileSync(path.join(dir, 'etc', 'os-release'), 'NAME="Ubuntu"\nVERSION_ID="24.04"\n');
    assert.equal(readOs(hostPaths({ rootfs: dir })).os, 'Ubuntu 24.04');
  });
});

describe('walk concurrency by device', () => {
  it('flash and virtual: max(4, 2 x cores); a spinning disk: 2; unknown: cores + 1', () => {
    assert.equal(findsInFlight('nvme', 2), 4);
    assert.equal(findsInFlight('ssd', 8), 16);
    assert.equal(findsInFlight('hdd', 2), 2);
    assert.equal(findsInFlight('hdd', 32), 2);
    assert.equal(findsInFlight('virtual', 2), 4);
    assert.equal(findsInFlight('virtual', 4), 8);
    assert.equal(findsInFlight('unknown', 4), 5);
    assert.equal(findsInFlight('unknown', 0), 2, 'at least one core');
  });
});

describe('host facts in the report', () => {
  const host: HostFacts = { os: 'Debian GNU/Linux 12', kernel: '6.1.0-18-amd64', device: { name: '/dev/vda', type: 'virtual', rotational: true, model: null } };

  it('the text header names the device', () => {
    const first = renderText(emptyReport({ host })).split('\n')[0]!;
    assert.match(first, /^Docker root \/var\/lib\/docker on \/dev\/vda \(virtual disk\) · storage driver overlay2/);
    assert.doesNotMatch(renderText(emptyReport()).split('\n')[0]!, / on \/dev/, 'no facts, no device');
  });

  it('layerdu_host_info carries the OS, kernel, device type and device', async () => {
    const m = new ReportMetrics(new Registry());
    m.update(emptyReport({ host }));
    assert.match(await m.registry.metrics(), /^layerdu_host_info\{os="Debian GNU\/Linux 12",kernel="6\.1\.0-18-amd64",device_type="virtual",device="\/dev\/vda"\} 1$/m);
    m.update(emptyReport());
    assert.doesNotMatch(await m.registry.metrics(), /^layerdu_host_info\{/m, 'no facts, no series');
  });
});
