/** In-process V8 CPU profiling through the inspector: start now, write a .cpuprofile on stop. */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface RunningProfile {
  stop(file: string): Promise<void>;
}

export async function startCpuProfile(intervalUs = 200): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
