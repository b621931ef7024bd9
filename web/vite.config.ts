import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Plugin } from "vite";

/** Swagger UI for /docs, served from the app's origin instead of a CDN: the files of the
 * pinned npm package swagger-ui-dist go to dist/api-docs/, next to the page and its start
 * script (public/api-docs/). The bundle's source-map comment is dropped (the map is not
 * shipped, and a reference to a missing file would 404). */
function apiDocs(): Plugin {
  const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  let outDir = "dist";
  return {
    name: "servicedesk-api-docs",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const target = join(outDir, "api-docs");
      mkdirSync(target, { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
        const text = readFileSync(join(source, file), "utf8").replace(/\n\/[/*]# sourceMappingURL=\S+\s*(\*\/)?\s*$/, "\n");
        writeFileSync(join(target, file), text);
      }
      for (const file of ["favicon-32x32.png", "LICENSE", "NOTICE"]) copyFileSync(join(source, file), join(target, file));
    },
  };
}

// `npm run dev` proxies the API to `make dev` (port 8000) so the refresh cookie stays
// same-origin; production and `make dev` serve the built app from the API's own origin.
const api = process.env.SERVICEDESK_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss(), apiDocs()],
  build: {
    target: "es2022",
    sourcemap: true,
    // The figure `make web` reports; the budget (250 KB gzip) is checked by web/scripts/bundle-size.mjs.
    reportCompressedSize: true,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/v1": { target: api, changeOrigin: false },
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
});
