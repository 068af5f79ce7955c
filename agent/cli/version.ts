// layerdu's version, for `--version`: package.json's (a unit test holds them equal). Not read from
// package.json at run time: the single executable has none, and yargs' guess finds the
// package.json above the working directory, which need not be layerdu's.
export const VERSION = '0.1.0';
