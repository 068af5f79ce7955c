// A container's logging configuration, as Docker keeps it: the driver and the options that bound
// its files (json-file and local). Plain data, for the model's log audit.

export interface LogConfigFact {
  /** The log driver (`json-file`, `local`, `journald`, `none`…); '' when the record names none. */
  driver: string;
  /** `max-size` in bytes (Docker's units.FromHumanSize: `10m` is 10,000,000), null when not set. */
  maxSize: number | null;
  /** `max-file`, null when not set. */
  maxFile: number | null;
}
