import { afterAll, describe, expect, it } from 'vitest';
import { ParamSet } from '../src/params/paramset.js';
import { createSafetensorsWriter, openSafetensors, writeSafetensors } from '../src/params/safetensors/index.js';
import type { TensorInfo } from '../src/params/tensor.js';
import { mixedFloatFile, tempDir } from './fixtures/safetensors/build.js';

const tmp = tempDir('tm-st-reuse-');
afterAll(() => tmp.cleanup());

describe('reads into reused buffers', () => {
  it('give the same values as fresh reads for every float dtype, each valid until the next read of its file', async () => {
    const path = tmp.file('mixed.safetensors', mixedFloatFile());
    const plain = await openSafetensors(path);
    const reused = await openSafetensors(path, { reuseBuffers: true });
    for (const name of ['a', 'b', 'c', 'd', 'b', 'a'])
      expect(Array.from(await reused.read(name))).toEqual(Array.from(await plain.read(name)));
    const first = await reused.read('d');
    await reused.read('a');
    expect(first.buffer).toBe((await reused.read('b')).buffer);
    await Promise.all([plain.close(), reused.close()]);
  });

  it('of a larger model hold one buffer per file', async () => {
    const ps = new ParamSet();
    for (let i = 0; i < 5; i++)
      ps.set(
        `t${i}`,
        [100 * (i + 1)],
        Float32Array.from({ length: 100 * (i + 1) }, (_, k) => k * (i + 1)),
      );
    const path = tmp.file('many.safetensors');
    await writeSafetensors(path, ps);
    const f = await openSafetensors(path, { reuseBuffers: true });
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < 5; i++) {
      const d = await f.read(`t${i}`);
      expect(Array.from(d)).toEqual(Array.from(ps.data(`t${i}`)));
      buffers.add(d.buffer);
    }
    expect(buffers.size).toBe(1);
    await f.close();
  });
});

describe("writes from the writer's own buffers", () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`give the same file as writes of separate arrays (${dtype}), own buffers and the caller's mixed`, async () => {
      const infos: TensorInfo[] = Array.from({ length: 7 }, (_, i) => ({
        name: `t${i}`,
        shape: [3 + 50 * (i % 3)],
        dtype: 'F32',
      }));
      const values = (i: number, n: number) => Float32Array.from({ length: n }, (_, k) => (k - i) / 4);
      const plain = tmp.file(`plain-${dtype}.safetensors`);
      const ps = new ParamSet();
      infos.forEach((info, i) => ps.set(info.name, info.shape, values(i, info.shape[0])));
      await writeSafetensors(plain, ps, { dtype });
      const reused = tmp.file(`reused-${dtype}.safetensors`);
      const w = createSafetensorsWriter(reused, infos, { dtype });
      const seen = new Set<ArrayBufferLike>();
      for (const [i, info] of infos.entries()) {
        if (i === 3) {
          await w.write(info, values(i, info.shape[0]));
          continue;
        }
        const out = w.outputFor(info);
        seen.add(out.buffer);
        out.set(values(i, info.shape[0]));
        await w.write(info, out);
      }
      await w.finish();
      expect(seen.size).toBe(2);
      const [a, b] = await Promise.all([openSafetensors(plain), openSafetensors(reused)]);
      expect(await b.readBytes('t6')).toEqual(await a.readBytes('t6'));
      for (const info of infos)
        expect(Array.from(await b.read(info.name))).toEqual(Array.from(await a.read(info.name)));
      await Promise.all([a.close(), b.close()]);
    });
  }
});
