import { defineConfig } from "vite";

// base "/" keeps asset URLs absolute (/assets/...), so index.html served for
// /m/<id> still finds them. `npm run dev` proxies the API and /ws to a gateway
// on HUDDLE_GATEWAY (default http://127.0.0.1:8080).
declare const process: { env: Record<string, string | undefined> };
const gateway = process.env.HUDDLE_GATEWAY ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "/api": gateway,
      "/ws": { target: gateway.replace(/^http/, "ws"), ws: true },
    },
  },
});
