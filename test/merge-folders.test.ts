import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSafetensorsMetadata } from '@huggingface/hub';
import { afterAll, describe, expect, it } from 'vitest';
import { runMergeConfig } from '../src/cli/commands/merge.js';
import { parseShardSize } from '../src/merge/model-folder.js';
import { TimeMergeError } from '../src/params/errors.js';
import { openCheckpoint, openSafetensors, planShards, readSafetensors } from '../src/params/safetensors/index.js';
import { tempDir } from './fixtures/safetensors/build.js';
import { llamaShapes, localHub, modelValues, writeHfFolder } from './hf-folders.js';

/** stderr without the progress lines a merge prints off a terminal (at its start and end). */
const notesOf = (stderr: string): string[] =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('merging '));

const tmp = tempDir('tm-folders-');
afterAll(() => tmp.cleanup());
const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', 'bin', 'time-merge.js');

/** Runs the bundled CLI; resolves with its output and exit status, never rejects. */
async function cli(args: string[], cwd = tmp.dir): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const LAYERS = 3;
const shapes = llamaShapes(LAYERS);

/** base (model 0) and experts a (1), b (2) as sharded HF folders in `dir`. */
async function threeModels(dir: string): Promise<void> {
  await writeHfFolder(join(dir, 'base'), modelValues(shapes, 0), { layers: LAYERS, shards: 3 });
  await writeHfFolder(join(dir, 'a'), modelValues(shapes, 1), { layers: LAYERS, shards: 2 });
  await writeHfFolder(join(dir, 'b'), modelValues(shapes, 2), { layers: LAYERS });
}

describe('parseShardSize (mergekit parse_kmb)', () => {
  it('reads plain numbers and K, M, B in either case', () => {
    expect(parseShardSize('5B')).toBe(5_000_000_000);
    expect(parseShardSize('500m')).toBe(500_000_000);
    expect(parseShardSize('3k')).toBe(3000);
    expect(parseShardSize('1234')).toBe(1234);
    expect(() => parseShardSize('5GB')).toThrow(/--out-shard-size: "5GB" is not a size/);
  });
});

describe('planShards (mergekit TensorWriter: a new shard when the next tensor would pass the limit)', () => {
  const t = (name: string, n: number) => ({ name, shape: [n], dtype: 'F32' as const });
  it('groups tensors in order by bytes of data, a tensor over the limit alone, names as transformers', () => {
    // 40, 32, 48, 8, 100, 4 bytes in F32 with a 72-byte limit.
    const infos = [t('a', 10), t('b', 8), t('c', 12), t('d', 2), t('e', 25), t('f', 1)];
    const plan = planShards(infos, undefined, 72);
    expect(plan.map((s) => [s.file, s.infos.map((i) => i.name).join('')])).toEqual([
      ['model-00001-of-00004.safetensors', 'ab'],
      ['model-00002-of-00004.safetensors', 'cd'],
      ['model-00003-of-00004.safetensors', 'e'],
      ['model-00004-of-00004.safetensors', 'f'],
    ]);
    // In F16 every tensor is half as large: 20+16+24+4 fit in 72, then 50+2.
    expect(planShards(infos, 'F16', 72).map((s) => s.infos.length)).toEqual([4, 2]);
    expect(planShards(infos, undefined, 0).map((s) => s.file)).toEqual(['model.safetensors']);
  });
});

describe('model folder output (through the bundle)', () => {
  it('merges sharded HF folders into a sharded folder that @huggingface/hub and a JSON reader read back', async () => {
    const dir = tmp.file('e2e');
    await threeModels(dir);
    // Every tensor of a (3 layers) model is 16 to 24 float16 values: 64 bytes per shard hold 1 or 2 tensors.
    writeFileSync(
      join(dir, 'merge.yml'),
      'merge_method: task_arithmetic\nbase_model: base\nmodels:\n  - model: a\n    parameters: { weight: 0.5 }\n  - model: b\n    parameters: { weight: 0.25 }\ndtype: float16\n',
    );
    const r = await cli(['merge', 'merge.yml', 'out/merged', '--out-shard-size', '64', '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'out', 'merged');
    const files = readdirSync(out).sort();
    const shardFiles = files.filter((f) => f.endsWith('.safetensors'));
    expect(shardFiles.length).toBeGreaterThan(3);
    shardFiles.forEach((f, i) =>
      expect(f).toBe(
        `model-${String(i + 1).padStart(5, '0')}-of-${String(shardFiles.length).padStart(5, '0')}.safetensors`,
      ),
    );
    expect(files).toEqual(
      [
        ...shardFiles,
        'README.md',
        'config.json',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );

    // The index, as plain JSON: every tensor once, total_size the f16 data bytes, shards within the limit.
    const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
    const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
    expect(index.metadata.total_size).toBe(shapes.reduce((n, [, s]) => n + 2 * numel(s), 0));
    expect(Object.keys(index.weight_map).sort()).toEqual(shapes.map(([n]) => n).sort());
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shardFiles));

    // @huggingface/hub's parser, over the folder served as a repository.
    const parsed = await parseSafetensorsMetadata({ repo: 'local/merged', fetch: localHub(out) });
    expect(parsed.sharded).toBe(true);
    if (!parsed.sharded) return;
    expect(parsed.index.metadata?.total_size).toBe(index.metadata.total_size);
    for (const [file, header] of Object.entries(parsed.headers)) {
      const bytes = Object.entries(header)
        .filter(([k]) => k !== '__metadata__')
        .map(([, v]) => {
          const t = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
          expect(t.dtype).toBe('F16');
          expect(t.data_offsets[1] - t.data_offsets[0]).toBe(2 * numel(t.shape));
          return t.data_offsets[1] - t.data_offsets[0];
        });
      expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(64);
      // The base's index total_size (f32) is not carried into the shards' metadata.
      expect(header.__metadata__?.total_size).toBeUndefined();
      expect(header.__metadata__?.format).toBe('pt');
      expect(statSync(join(out, file)).isFile()).toBe(true);
    }

    // Values: θ0 + 0.5 (θa − θ0) + 0.25 (θb − θ0) = m0 + 0.5·1 + 0.25·2 = value of model 0 plus 1, exact in f16.
    const merged = await readSafetensors(join(out, 'model.safetensors.index.json'));
    const base = modelValues(shapes, 0);
    for (const [name] of shapes) {
      const want = Array.from(base.data(name), (v) => v + 1);
      expect(Array.from(merged.data(name))).toEqual(want.map((v) => Math.fround(v)));
    }

    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toEqual({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      num_hidden_layers: LAYERS,
      hidden_size: 4,
      torch_dtype: 'float16',
    });
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'base', 'tokenizer.json'), 'utf8'),
    );
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    expect(card).toContain('merge_method: task_arithmetic');
    expect(card).toMatch(/^# merged$/m);
    expect(readdirSync(join(dir, 'out'))).toEqual(['merged']); // no partial folder left
  });

  it('one shard is model.safetensors with no index; --no-copy-tokenizer and --no-write-model-card leave them out', async () => {
    const dir = tmp.file('single');
    await threeModels(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\n');
    const r = await cli(['merge', 'merge.yml', '-o', 'out', '--no-copy-tokenizer', '--no-write-model-card', '-v'], dir);
    expect(r.code).toBe(0);
    expect(notesOf(r.stderr).slice(0, 2)).toEqual([
      `time-merge: wrote 1 shard(s) of at most 5B bytes of tensor data`,
      `time-merge: config.json from ${join(dir, 'a')}`,
    ]);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['config.json', 'model.safetensors']);
    // linear without base_model: config.json from the first model, its torch_dtype kept (no dtype given).
    expect(JSON.parse(readFileSync(join(dir, 'out', 'config.json'), 'utf8')).torch_dtype).toBe('float32');
    const f = await openSafetensors(join(dir, 'out', 'model.safetensors'));
    expect(Array.from(await f.read('model.norm.weight'))).toEqual(
      Array.from(modelValues(shapes, 1).data('model.norm.weight'), (v) => Math.fround((v + (v + 1)) / 2)),
    );
    await f.close();
  });

  it('replaces an existing model folder only with a complete one, and refuses a folder with other things', async () => {
    const dir = tmp.file('replace');
    await threeModels(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\n');
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'model-00001-of-00009.safetensors'), 'old shard');
    expect((await cli(['merge', 'merge.yml', 'out', '-q'], dir)).code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).not.toContain('model-00001-of-00009.safetensors');
    // A failing merge (a missing model) leaves the folder as it was.
    writeFileSync(join(dir, 'bad.yml'), 'merge_method: linear\nmodels: [a, missing.safetensors]\n');
    const before = readdirSync(join(dir, 'out')).sort();
    const bad = await cli(['merge', 'bad.yml', 'out', '-q'], dir);
    expect(bad.code).toBe(2);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'diary.docx'), 'mine');
    const refused = await cli(['merge', 'merge.yml', 'notes', '-q'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/notes: an existing folder is replaced as a whole .* \(diary\.docx\)/);
    expect(readFileSync(join(dir, 'notes', 'diary.docx'), 'utf8')).toBe('mine');
  });

  it('refuses an output folder that holds an input, an index name, and an existing file as a folder', async () => {
    const dir = tmp.file('guards');
    await threeModels(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\n');
    const intoInput = await cli(['merge', 'merge.yml', 'b', '-q'], dir);
    expect(intoInput.code).toBe(2);
    expect(intoInput.stderr).toMatch(/output .*\/b holds also an input \(.*\/b\/model\.safetensors\)/);
    const index = await cli(['merge', 'merge.yml', 'x.safetensors.index.json', '-q'], dir);
    expect(index.code).toBe(2);
    expect(index.stderr.trim()).toMatch(/x\.safetensors\.index\.json: an index is written inside a model folder/);
    expect(existsSync(join(dir, 'x.safetensors.index.json'))).toBe(false);
    mkdirSync(join(dir, 'cfg'));
    writeFileSync(join(dir, 'cfg', 'merge.yml'), 'merge_method: linear\nmodels: [../a, ../b]\n');
    const intoConfig = await cli(['merge', 'cfg/merge.yml', 'cfg', '-q'], dir);
    expect(intoConfig.stderr).toMatch(/cfg\/merge\.yml: output folder .*\/cfg holds this config, and would replace it/);
    expect(existsSync(join(dir, 'cfg', 'merge.yml'))).toBe(true);
    writeFileSync(join(dir, 'plain'), 'a file');
    expect((await cli(['merge', 'merge.yml', 'plain', '-q'], dir)).stderr).toMatch(/plain: exists and is not a folder/);
  });

  it('creates missing parents of a .safetensors output and writes one file', async () => {
    const dir = tmp.file('parents');
    await threeModels(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\n');
    expect((await cli(['merge', 'merge.yml', '-o', 'new/deeper/model.safetensors', '-q'], dir)).code).toBe(0);
    const f = await openSafetensors(join(dir, 'new', 'deeper', 'model.safetensors'));
    expect(f.metadata.total_size).toBeUndefined();
    await f.close();
  });
});

describe("mergekit's command line", () => {
  it('accepts the options with no meaning here with a note each, and --random-seed sets the seed', async () => {
    const dir = tmp.file('options');
    await threeModels(dir);
    writeFileSync(
      join(dir, 'merge.yml'),
      'merge_method: dare_ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: { density: 0.5, weight: 1 }\n  - model: b\n    parameters: { density: 0.5, weight: 1 }\n',
    );
    const args = ['--cuda', '--lazy-unpickle', '--low-cpu-memory', '--trust-remote-code', '--clone-tensors'];
    const r = await cli(
      [
        'merge',
        'merge.yml',
        'x.safetensors',
        ...args,
        '--transformers-cache',
        '/nowhere',
        '--random-seed',
        '7',
        '--allow-crimes',
      ],
      dir,
    );
    expect(r.code).toBe(0);
    const notes = notesOf(r.stderr);
    expect(notes).toHaveLength(6);
    expect(notes[0]).toBe('time-merge: --cuda has no effect here: merges run on the CPU, one tensor at a time');
    expect(notes[5]).toBe(
      'time-merge: --transformers-cache has no effect here: models are read from local folders, never downloaded',
    );
    const f = await openSafetensors(join(dir, 'x.safetensors'));
    expect(f.metadata.time_merge_seed).toBe('7');
    await f.close();
    // Another seed draws other DARE masks.
    await cli(['merge', 'merge.yml', 'y.safetensors', '--random-seed', '8', '-q'], dir);
    const [x, y] = await Promise.all(['x', 'y'].map((n) => readSafetensors(join(dir, `${n}.safetensors`))));
    expect(x.flatten()).not.toEqual(y.flatten());
  });

  it('refuses different architectures without --allow-crimes', async () => {
    const dir = tmp.file('crimes');
    await writeHfFolder(join(dir, 'a'), modelValues(shapes, 1), { layers: LAYERS });
    await writeHfFolder(join(dir, 'b'), modelValues(shapes, 2), { layers: LAYERS, architecture: 'MistralForCausalLM' });
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\n');
    const r = await cli(['merge', 'merge.yml', 'out', '-q'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models of different architectures: \["LlamaForCausalLM"\] .* pass --allow-crimes/);
    expect((await cli(['merge', 'merge.yml', 'out', '-q', '--allow-crimes'], dir)).code).toBe(0);
  });

  it('a Hugging Face id says that models are read from local folders', async () => {
    const dir = tmp.file('hub');
    mkdirSync(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [mistralai/Mistral-7B-v0.1, a]\n');
    const r = await cli(['merge', 'merge.yml', 'out'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `time-merge: mistralai/Mistral-7B-v0.1: no such local folder (${join(dir, 'mistralai/Mistral-7B-v0.1')}); models are read from local folders and files, and a Hugging Face id is not downloaded: fetch it first (huggingface-cli download mistralai/Mistral-7B-v0.1 --local-dir DIR) and name DIR`,
    );
  });

  it('tokenizer_source: a model name copies its tokenizer; another vocabulary is refused', async () => {
    const dir = tmp.file('tok');
    await threeModels(dir);
    writeFileSync(join(dir, 'merge.yml'), 'merge_method: linear\nmodels: [a, b]\ntokenizer_source: b\n');
    writeFileSync(join(dir, 'b', 'special_tokens_map.json'), '{"bos_token": "<s>"}');
    expect((await cli(['merge', 'merge.yml', 'out', '-q'], dir)).code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).toContain('special_tokens_map.json');
    await writeHfFolder(join(dir, 'c'), modelValues(shapes, 3), {
      layers: LAYERS,
      vocab: ['<s>', 'x', 'y', 'z', 'w', 'v'],
    });
    writeFileSync(join(dir, 'other.yml'), 'merge_method: linear\nmodels: [a, c]\ntokenizer_source: a\n');
    const r = await cli(['merge', 'other.yml', 'out2', '-q'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has another vocabulary; merging vocabularies \(permuting embeddings\) is not supported/);
    await expect(runMergeConfig(join(dir, 'other.yml'), { output: join(dir, 'out3') })).rejects.toBeInstanceOf(
      TimeMergeError,
    );
    expect(existsSync(join(dir, 'out3'))).toBe(false);
  });
});

describe('slices', () => {
  it('a frankenmerge stacks layer ranges: output layer k is its source layer bit for bit, config.json counts them', async () => {
    const dir = tmp.file('franken');
    await writeHfFolder(join(dir, 'x'), modelValues(shapes, 1), { layers: LAYERS, shards: 2 });
    await writeHfFolder(join(dir, 'y'), modelValues(shapes, 2), { layers: LAYERS });
    writeFileSync(
      join(dir, 'merge.yml'),
      `slices:
  - sources:
      - model: x
        layer_range: [0, 2]
  - sources:
      - model: y
        layer_range: [1, 3]
  - sources:
      - model: x
        layer_range: [1, 2]
merge_method: passthrough
dtype: float32
`,
    );
    const r = await cli(['merge', 'merge.yml', 'out', '-q'], dir);
    expect(r.stderr).toBe('');
    const out = await openCheckpoint(join(dir, 'out', 'model.safetensors'));
    const x = await openCheckpoint(join(dir, 'x', 'model.safetensors.index.json'));
    const y = await openCheckpoint(join(dir, 'y', 'model.safetensors'));
    // Output layers 0-1 = x's 0-1, 2-3 = y's 1-2, 4 = x's 1.
    const from: [typeof x, number][] = [
      [x, 0],
      [x, 1],
      [y, 1],
      [y, 2],
      [x, 1],
    ];
    const names = out.tensorInfos().map((t) => t.name);
    expect(names).toHaveLength(3 + 5 * 3);
    for (const [k, [src, l]] of from.entries()) {
      for (const part of ['self_attn.q_proj.weight', 'mlp.up_proj.weight', 'input_layernorm.weight']) {
        const a = await out.readBytes(`model.layers.${k}.${part}`);
        const b = await src.readBytes(`model.layers.${l}.${part}`);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      }
    }
    // Embeddings from the first slice's model, the final norm and head from the last slice's (mergekit).
    expect(Buffer.from(await out.readBytes('model.embed_tokens.weight'))).toEqual(
      Buffer.from(await x.readBytes('model.embed_tokens.weight')),
    );
    expect(Buffer.from(await out.readBytes('lm_head.weight'))).toEqual(
      Buffer.from(await x.readBytes('lm_head.weight')),
    );
    await Promise.all([out, x, y].map((c) => c.close()));
    expect(JSON.parse(readFileSync(join(dir, 'out', 'config.json'), 'utf8')).num_hidden_layers).toBe(5);
  });

  it('a slerp slice over every layer equals the models: form, gradient included', async () => {
    const dir = tmp.file('slerp');
    await threeModels(dir);
    const params = 'parameters:\n  t:\n    - filter: self_attn\n      value: [0, 0.5, 1]\n    - value: 0.3\n';
    writeFileSync(
      join(dir, 'sliced.yml'),
      `slices:\n  - sources:\n      - model: a\n        layer_range: [0, ${LAYERS}]\n      - model: b\n        layer_range: [0, ${LAYERS}]\nmerge_method: slerp\nbase_model: a\n${params}`,
    );
    writeFileSync(
      join(dir, 'models.yml'),
      `models:\n  - model: a\n  - model: b\nmerge_method: slerp\nbase_model: a\n${params}`,
    );
    await cli(['merge', 'sliced.yml', 's.safetensors', '-q'], dir);
    await cli(['merge', 'models.yml', 'm.safetensors', '-q'], dir);
    const [s, m] = await Promise.all(['s', 'm'].map((n) => readSafetensors(join(dir, `${n}.safetensors`))));
    expect(s.names().sort()).toEqual(m.names().sort());
    for (const name of m.names()) expect(s.data(name)).toEqual(m.data(name));
    // The gradient did vary: layer 0's q_proj is a's (t = 0), layer 2's is b's (t = 1).
    expect(s.data('model.layers.0.self_attn.q_proj.weight')).toEqual(
      modelValues(shapes, 1).data('model.layers.0.self_attn.q_proj.weight'),
    );
    expect(s.data('model.layers.2.self_attn.q_proj.weight')).toEqual(
      modelValues(shapes, 2).data('model.layers.2.self_attn.q_proj.weight'),
    );
  });

  it('a layout it cannot read names the tensors it could not place; bad ranges name the source', async () => {
    const dir = tmp.file('layout');
    await threeModels(dir);
    const { ParamSet } = await import('../src/params/paramset.js');
    const { writeSafetensors } = await import('../src/params/safetensors/index.js');
    await writeSafetensors(
      join(dir, 't5.safetensors'),
      ParamSet.fromEntries([
        ['encoder.block.0.layer.0.weight', { shape: [2], data: new Float32Array(2) }],
        ['shared.weight', { shape: [2], data: new Float32Array(2) }],
      ]),
    );
    writeFileSync(
      join(dir, 't5.yml'),
      'slices:\n  - sources:\n      - model: t5.safetensors\n        layer_range: [0, 1]\nmerge_method: passthrough\n',
    );
    const r = await cli(['merge', 't5.yml', 'o.safetensors', '-q'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `time-merge: ${join(dir, 't5.safetensors')}: slices need a known layer layout (model.layers.N. (Llama, Mistral, Qwen2, Gemma), h.N. (GPT-2), resblocks.N. (open_clip)); could not place tensor(s) "encoder.block.0.layer.0.weight"`,
    );
    writeFileSync(
      join(dir, 'range.yml'),
      'slices:\n  - sources:\n      - model: a\n        layer_range: [1, 5]\nmerge_method: passthrough\n',
    );
    const bad = await cli(['merge', 'range.yml', 'o.safetensors', '-q'], dir);
    expect(bad.stderr).toMatch(
      /slices\[0\]: sources\[0\] \(a\): layer_range \[1, 5\] must satisfy 0 <= begin < end <= 3/,
    );
  });
});

describe('the slices example of docs/merge-command.md, as printed', () => {
  it('stacks layers 0-23 of one model and 20-39 of another into 44 layers', async () => {
    const doc = readFileSync(new URL('../docs/merge-command.md', import.meta.url), 'utf8');
    const from = doc.indexOf('## Slices (frankenmerges)');
    const start = doc.indexOf('```yaml\n', from) + '```yaml\n'.length;
    const dir = tmp.file('doc-slices');
    const forty = llamaShapes(40);
    await writeHfFolder(join(dir, 'orca'), modelValues(forty, 1), { layers: 40 });
    await writeHfFolder(join(dir, 'platypus'), modelValues(forty, 2), { layers: 40 });
    writeFileSync(join(dir, 'frankenmerge.yml'), doc.slice(start, doc.indexOf('```', start)));
    const r = await cli(['merge', 'frankenmerge.yml', './merged', '-q'], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'merged', 'config.json'), 'utf8'))).toMatchObject({
      num_hidden_layers: 44,
      torch_dtype: 'float16',
    });
    const merged = await readSafetensors(join(dir, 'merged', 'model.safetensors'));
    const q = (l: number) => `model.layers.${l}.self_attn.q_proj.weight`;
    expect(merged.data(q(24))).toEqual(modelValues(forty, 2).data(q(20)));
    expect(merged.has(q(44))).toBe(false);
  });
});
