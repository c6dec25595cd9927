/// <reference types="node" />
import { defineConfig, type Plugin } from "vite";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

// base "/" keeps asset URLs absolute (/assets/...), so index.html served for
// /m/<id> still finds them. `npm run dev` proxies the API and /ws to a gateway
// on HUDDLE_GATEWAY (default http://127.0.0.1:8080).
const gateway = process.env.HUDDLE_GATEWAY ?? "http://127.0.0.1:8080";

// Background blur runs @mediapipe/selfie_segmentation, whose npm package is a
// script that loads its WASM, model and graph by URL at run time. They are
// served from the app itself (nothing is fetched from elsewhere): copied as
// they are into assets/selfie_segmentation-<version>/, a path that changes with
// the package's version, so the gateway's immutable caching of /assets/ holds.
const selfieDir = fileURLToPath(new URL("./node_modules/@mediapipe/selfie_segmentation/", import.meta.url));
const selfieVersion = (JSON.parse(readFileSync(`${selfieDir}package.json`, "utf8")) as { version: string }).version;
const selfieBase = `assets/selfie_segmentation-${selfieVersion}/`;
const selfieFiles = readdirSync(selfieDir).filter((f) => /\.(js|wasm|data|tflite|binarypb)$/.test(f));

function selfieSegmentationAssets(): Plugin {
  return {
    name: "huddle-selfie-segmentation-assets",
    config: () => ({ define: { __SELFIE_SEGMENTATION_DIR__: JSON.stringify(`/${selfieBase}`) } }),
    generateBundle() {
      for (const f of selfieFiles) {
        this.emitFile({ type: "asset", fileName: `${selfieBase}${f}`, source: readFileSync(`${selfieDir}${f}`) });
      }
    },
    configureServer(server) {
      server.middlewares.use(`/${selfieBase}`, (req, res, next) => {
        const f = (req.url ?? "").replace(/^\//, "").split("?")[0];
        if (!selfieFiles.includes(f)) return next();
        res.setHeader("content-type", f.endsWith(".wasm") ? "application/wasm" : f.endsWith(".js") ? "text/javascript" : "application/octet-stream");
        res.end(readFileSync(`${selfieDir}${f}`));
      });
    },
  };
}

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  plugins: [selfieSegmentationAssets()],
  server: {
    proxy: {
      "/api": gateway,
      "/ws": { target: gateway.replace(/^http/, "ws"), ws: true },
    },
  },
});
