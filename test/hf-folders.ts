import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParamSet } from '../src/params/paramset.js';
import { writeSafetensors } from '../src/params/safetensors/index.js';

/** A Llama-shaped model's tensor names and shapes: embeddings, `layers` layers, final norm and head. */
export function llamaShapes(layers: number, hidden = 4, vocab = 6): [string, number[]][] {
  const out: [string, number[]][] = [['model.embed_tokens.weight', [vocab, hidden]]];
  for (let l = 0; l < layers; l++) {
    out.push([`model.layers.${l}.self_attn.q_proj.weight`, [hidden, hidden]]);
    out.push([`model.layers.${l}.mlp.up_proj.weight`, [hidden, hidden]]);
    out.push([`model.layers.${l}.input_layernorm.weight`, [hidden]]);
  }
  out.push(['model.norm.weight', [hidden]], ['lm_head.weight', [vocab, hidden]]);
  return out;
}

/**
 * Values that tell models, tensors and elements apart and are exact in float32 (and f16): model m,
 * tensor t, element i holds m + t/16 + i/64 (exact in f16 below 16).
 */
export function modelValues(shapes: readonly [string, number[]][], m: number): ParamSet {
  return ParamSet.fromEntries(
    shapes.map(([name, shape], t) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return [name, { shape, data: Float32Array.from({ length: n }, (_, i) => m + t / 16 + i / 64) }];
    }),
  );
}

/**
 * Writes a Hugging Face style folder: config.json, a tokenizer, and the weights in `shards` files
 * (model-0000k-of-0000n.safetensors with a hand-written model.safetensors.index.json), or one
 * model.safetensors.
 */
export async function writeHfFolder(
  dir: string,
  params: ParamSet,
  o: { shards?: number; layers: number; architecture?: string; vocab?: string[] },
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: [o.architecture ?? 'LlamaForCausalLM'],
      model_type: 'llama',
      num_hidden_layers: o.layers,
      hidden_size: 4,
      torch_dtype: 'float32',
    }),
  );
  const vocab = Object.fromEntries((o.vocab ?? ['<s>', 'a', 'b', 'c', 'd', 'e']).map((t, i) => [t, i]));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab }, added_tokens: [] }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16 }));
  const names = params.names();
  const n = o.shards ?? 1;
  if (n === 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), params, { metadata: { format: 'pt' } });
    return;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(names.length / n);
  for (let k = 0; k < n; k++) {
    const file = `model-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const part = ParamSet.fromEntries(
      names.slice(k * per, (k + 1) * per).map((name) => {
        weightMap[name] = file;
        return [name, { shape: [...params.get(name).shape], data: params.data(name) }];
      }),
    );
    await writeSafetensors(join(dir, file), part, { metadata: { format: 'pt' } });
  }
  const total = names.reduce((s, name) => s + params.data(name).length * 4, 0);
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }),
  );
}

/**
 * A fetch that serves the files of `dir` as the Hugging Face hub serves a repository's (HEAD, byte
 * ranges), for @huggingface/hub's readers; each request is logged to `requests` as "NAME RANGE".
 */
export function localHub(dir: string, requests: string[] = []): typeof fetch {
  return (async (input: Request | string | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const range = new Headers(init?.headers).get('range');
    const name = /\/(?:resolve|raw)\/main\/([^?]+)/.exec(url)?.[1];
    requests.push(`${name} ${range}`);
    const file = name === undefined ? '' : join(dir, decodeURIComponent(name));
    if (!name || !existsSync(file)) return new Response('not found', { status: 404 });
    const bytes = readFileSync(file);
    const m = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    const a = m ? Number(m[1]) : 0;
    const b = m?.[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
    const headers = {
      etag: '"local"',
      'content-length': String(b - a + 1),
      'content-range': `bytes ${a}-${b}/${bytes.length}`,
    };
    return new Response(bytes.subarray(a, b + 1), { status: m ? 206 : 200, headers });
  }) as typeof fetch;
}
