// OCI content digests (`algorithm:hex`), as containerd accepts them (go-digest's Parse: a known
// algorithm and exactly its length of lowercase hex). A digest names a blob file, so one bit off
// must be caught here rather than become a blob nobody has.

const HEX_LENGTH = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
  ['blake3', 64],
]);

export function isDigest(text: string): boolean {
  const colon = text.indexOf(':');
  if (colon < 0) return false;
  const length = HEX_LENGTH.get(text.slice(0, colon));
  const hex = text.slice(colon + 1);
  return length !== undefined && hex.length === length && /^[0-9a-f]+$/.test(hex);
}
