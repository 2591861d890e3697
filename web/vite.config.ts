// Vite builds the web app into the Python package, which FastAPI serves at "/".
// The build output is not committed: `make web` rebuilds it when web/ changes.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const OUT_DIR = resolve(__dirname, "../src/haizhou/api/static");

function ignoreBuildOutput(): Plugin {
  return {
    name: "haizhou-ignore-build-output",
    closeBundle() {
      writeFileSync(resolve(OUT_DIR, ".gitignore"), "# Built by `make web` from web/ (Vite); not committed.\n*\n");
    },
  };
}

export default defineConfig({
  plugins: [react(), ignoreBuildOutput()],
  base: "/",
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    sourcemap: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
