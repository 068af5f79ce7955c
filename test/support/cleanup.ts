// Clean-up that tries every step even when one fails, then reports the first failure.
export function cleanupSteps(): { attempt(step: () => Promise<unknown>): Promise<void>; done(): void } {
  const problems: unknown[] = [];
  return {
    async attempt(step) {
      try {
        await step();
      } catch (e) {
        problems.push(e);
      }
    },
    done() {
      if (problems.length > 0) throw problems[0];
    },
  };
}
