// How a containerd record is named in the model: by its own key in Docker's namespace (`moby`),
// and prefixed with its namespace elsewhere, since namespaces are separate worlds that may use
// the same names (the same chain id unpacked in `moby` and `k8s.io` is two snapshots).
export const nsKey = (namespace: string, key: string): string => (namespace === 'moby' ? key : `${namespace}/${key}`);
