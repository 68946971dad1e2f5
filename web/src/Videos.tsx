// The video being watched (its real progress from the status query, then the player and a
// download link) and the key's history: thumbnails, status, price, cancel and delete.

import { useEffect, useState } from "preact/hooks";
import type { JSX } from "preact";
import { ApiError, type Client, FINISHED, type Video, money } from "./api";

/** Polls the video until it is finished, at the pace the gateway suggests. */
export function useVideo(client: Client, id: string | null, onChange: () => void): Video | null {
  const [video, setVideo] = useState<Video | null>(null);
  useEffect(() => {
    setVideo(null);
    if (!id) return;
    let live = true;
    let timer = 0;
    const poll = async (): Promise<void> => {
      try {
        const next = await client.video(id);
        if (!live) return;
        setVideo(next);
        if (FINISHED.has(next.status)) return onChange();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return;
      }
      if (live) timer = window.setTimeout(() => void poll(), 700);
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [client, id]);
  return video;
}

export function Watch(props: { video: Video | null }): JSX.Element {
  const { video } = props;
  if (!video) {
    return (
      <section class="card watch empty">
        <h2>Result</h2>
        <p class="hint">Make a video, or pick one from the history, to watch it here.</p>
      </section>
    );
  }
  const status = video.status === "in_progress" ? "processing" : video.status;
  return (
    <section class="card watch" data-video={video.id} data-status={status}>
      <h2>Result</h2>
      <p class="meta">
        <code>{video.id}</code> · {video.model} · {video.size} · {video.seconds} s
      </p>
      {!FINISHED.has(video.status) && (
        <div class="progress">
          <progress max={100} value={video.progress} />
          <span data-testid="progress">{status} {video.progress}%</span>
        </div>
      )}
      {status === "completed" && video.video_url && (
        <>
          <video class="player" src={video.video_url} poster={video.thumbnail_url ?? undefined}
            controls playsInline preload="metadata" />
          <p><a class="button" href={video.video_url} download={`${video.id}.mp4`}>Download MP4</a></p>
        </>
      )}
      {(status === "failed" || status === "cancelled") && (
        <p class="field-error" role="alert">{status}: {video.error?.message ?? video.error?.code}</p>
      )}
      <p class="meta">Price: {video.price ? `${money(video.price.amount, video.price.currency)} (${video.price.state})` : "—"}</p>
    </section>
  );
}

// The spritesheet is a 5 x 5 grid of frames at i/25 of the video (media/spritesheet.py):
// hovering a thumbnail steps through it. Set through the CSSOM (style objects), which the
// page's CSP allows, unlike style attributes in markup.
const GRID = 5;

function Thumb(props: { video: Video; status: string; onWatch: () => void }): JSX.Element {
  const { video } = props;
  const [tile, setTile] = useState<number | null>(null);
  useEffect(() => {
    if (tile === null) return;
    const timer = window.setTimeout(() => setTile((tile + 1) % (GRID * GRID)), 120);
    return () => window.clearTimeout(timer);
  }, [tile]);
  const sheet = video.spritesheet_url;
  const scrubbing = tile !== null && sheet !== null;
  const style = scrubbing
    ? {
        backgroundImage: `url("${sheet}")`,
        backgroundSize: `${GRID * 100}% ${GRID * 100}%`,
        backgroundPosition: `${(tile % GRID) * 25}% ${Math.floor(tile / GRID) * 25}%`,
      }
    : undefined;
  return (
    <button type="button" class={scrubbing ? "thumb scrubbing" : "thumb"} style={style}
      onClick={props.onWatch} title="Watch" onMouseEnter={() => sheet && setTile(0)}
      onMouseLeave={() => setTile(null)}>
      {video.thumbnail_url && !scrubbing && <img src={video.thumbnail_url} alt="" loading="lazy" />}
      {!video.thumbnail_url && <span>{props.status}</span>}
    </button>
  );
}

interface HistoryProps {
  client: Client;
  version: number; // bumped by the page when something changed
  watching: string | null;
  onWatch: (id: string) => void;
  onChange: () => void;
}

export function History({ client, version, watching, onWatch, onChange }: HistoryProps): JSX.Element {
  const [videos, setVideos] = useState<Video[]>([]);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    let timer = 0;
    const load = async (): Promise<void> => {
      try {
        const page = await client.list();
        if (!live) return;
        setVideos(page.data);
        setMore(page.has_more ? page.last_id : null);
        setError("");
        // Unfinished videos keep the list fresh until they are done.
        if (page.data.some((v) => !FINISHED.has(v.status))) timer = window.setTimeout(() => void load(), 1500);
      } catch (e) {
        if (live) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void load();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [client, version]);

  const act = async (action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
      setError("");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
    onChange();
  };

  const loadMore = async (): Promise<void> => {
    if (!more) return;
    const page = await client.list(more);
    setVideos([...videos, ...page.data]);
    setMore(page.has_more ? page.last_id : null);
  };

  return (
    <section class="card history">
      <h2>History</h2>
      {error && <p class="field-error" role="alert">{error}</p>}
      {videos.length === 0 && <p class="hint">No videos yet for this key.</p>}
      <ul class="videos">
        {videos.map((v) => {
          const status = v.status === "in_progress" ? "processing" : v.status;
          return (
            <li class={v.id === watching ? "video watching" : "video"} data-video={v.id} data-status={status}>
              <Thumb video={v} status={status} onWatch={() => onWatch(v.id)} />
              <div class="about">
                <p class="prompt">{v.prompt || <em>no prompt</em>}</p>
                <p class="meta">
                  <span class={`status ${status}`}>{status}{FINISHED.has(v.status) ? "" : ` ${v.progress}%`}</span>
                  {" · "}{v.model} · {v.seconds} s · {v.price ? money(v.price.amount, v.price.currency) : "free"}
                </p>
              </div>
              <div class="actions">
                {!FINISHED.has(v.status) && (
                  <button type="button" class="link" onClick={() => void act(() => client.cancel(v.id))}>cancel</button>
                )}
                <button type="button" class="link danger" onClick={() => void act(() => client.remove(v.id))}>delete</button>
              </div>
            </li>
          );
        })}
      </ul>
      {more && <button type="button" class="link" onClick={() => void loadMore()}>Load more</button>}
    </section>
  );
}
