// Builds the playground (index.html) and the console (console.html) into the Python package
// (src/vidugate/web), where it is committed:
// `uv run vidugate serve` then needs no node. Relative URLs, so the page works under a
// root path too; no inline script or style, so the gateway's CSP can forbid them.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../src/vidugate/web/site", // a check builds elsewhere with --outDir
    emptyOutDir: true,
    assetsDir: "playground", // both pages' hashed assets, shared chunks too
    rollupOptions: {
      input: { index: "index.html", console: "console.html" },
      output: { chunkFileNames: "playground/shared-[hash].js" }, // what both pages load
    },
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
  },
});
