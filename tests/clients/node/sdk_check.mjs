// The official openai Node SDK (package.json pins it), unmodified, against a running gateway:
// run by tests/clients/test_node_sdk.py, which reads the JSON line this prints and decodes the
// MP4s it saves. Node's SDK has no createAndPoll: the loop on retrieve is the client's own.
// Reads VIDUGATE_BASE_URL, VIDUGATE_API_KEY, IMAGE (a png) and OUT (a directory).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import OpenAI, { toFile } from 'openai';

const client = new OpenAI({
  baseURL: `${process.env.VIDUGATE_BASE_URL}/v1`,
  apiKey: process.env.VIDUGATE_API_KEY,
  maxRetries: 0,
});
const out = process.env.OUT;

async function untilDone(video) {
  const seen = [video.status];
  let current = video;
  const giveUp = Date.now() + 300_000; // bounds a broken run only
  while ((current.status === 'queued' || current.status === 'in_progress') && Date.now() < giveUp) {
    await sleep(200);
    current = await client.videos.retrieve(video.id);
    seen.push(current.status);
  }
  return { video: current, seen };
}

async function download(id, name) {
  const response = await client.videos.downloadContent(id);
  const bytes = Buffer.from(await response.arrayBuffer());
  const path = join(out, name);
  await writeFile(path, bytes);
  // An MP4 starts with a box whose type is ftyp; the test decodes every frame besides.
  return { path, ftyp: bytes.subarray(4, 8).toString('latin1'), contentType: response.headers.get('content-type') };
}

function summary(video) {
  return { id: video.id, status: video.status, size: video.size, seconds: video.seconds, model: video.model };
}

async function errorOf(call) {
  try {
    await call();
  } catch (err) {
    return { name: err.constructor.name, status: err.status, code: err.code, message: err.message };
  }
  return null;
}

// create (always multipart in this SDK), then the retrieve loop to completed, then download.
const created = await client.videos.create({
  model: 'viduq2-turbo',
  prompt: 'A paper boat on a river',
  seconds: '1',
  size: '960x540',
});
const text = await untilDone(created);
const textFile = await download(created.id, 'text.mp4');

// input_reference as a file, made with the SDK's toFile; seed fields ride along as extra fields.
const png = await readFile(process.env.IMAGE);
const withImage = await client.videos.create({
  model: 'viduq2-pro',
  prompt: 'Make it move',
  seconds: '1',
  input_reference: await toFile(png, 'ref.png', { type: 'image/png' }),
  resolution: '540p',
});
const image = await untilDone(withImage);
const imageFile = await download(withImage.id, 'image.mp4');

// list: one page by hand (after = the last id), then every page by auto-pagination.
const first = await client.videos.list({ limit: 1 });
const second = first.hasNextPage() ? await first.getNextPage() : null;
const every = [];
for await (const video of client.videos.list({ limit: 1 })) {
  every.push(video.id);
}

// remix is not served: the SDK's BadRequestError carries the gateway's message.
const remix = await errorOf(() => client.videos.remix(created.id, { prompt: 'make it blue' }));

// delete, after which the video is gone.
const deleted = await client.videos.delete(created.id);
const afterDelete = await errorOf(() => client.videos.retrieve(created.id));

console.log(
  JSON.stringify({
    created: summary(created),
    text: { ...summary(text.video), seen: text.seen, file: textFile },
    withImage: summary(withImage),
    image: { ...summary(image.video), seen: image.seen, file: imageFile },
    pages: {
      first: first.data.map((v) => v.id),
      firstHasMore: first.has_more,
      second: second ? second.data.map((v) => v.id) : null,
      every,
    },
    remix,
    deleted,
    afterDelete,
  }),
);
