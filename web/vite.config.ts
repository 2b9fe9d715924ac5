// Two pages, built one at a time (`vite build --mode console|portal`): web/<page>/index.html ->
// dist/<page>/index.html with its assets in dist/<page>/assets/, base /<page>/ -- so each page is one
// folder, served as it is by the local stack (/console, /portal) and by S3 + CloudFront.
import { resolve } from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const PAGES = ["console", "portal"] as const;

export default defineConfig(({ mode }) => {
  const page = PAGES.find((p) => p === mode) ?? "console";
  return {
    root: resolve(__dirname, page),
    base: `/${page}/`,
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, "dist", page),
      emptyOutDir: true,
      chunkSizeWarningLimit: 1024,
    },
    server: {
      fs: { allow: [__dirname] },
      // `npm run dev -- --mode console`: the API of `make run` on the same origin.
      proxy: { "/v1": "http://127.0.0.1:8000", "/local": "http://127.0.0.1:8000" },
    },
  };
});
