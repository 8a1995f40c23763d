// `tsx scripts/check-native-kernels.ts <file.wasm>…`: fails unless each module is safe in tfjs' heap (moduleCheck.ts).
import { readFileSync } from 'node:fs';
import { problemOfKernelsModule } from '../src/backends/native/moduleCheck';

for (const file of process.argv.slice(2)) {
  const problem = problemOfKernelsModule(readFileSync(file));
  if (problem !== null) {
    console.error(`${file}: ${problem}`);
    process.exit(1);
  }
  console.log(`${file}: imports env.memory only, no data section`);
}
