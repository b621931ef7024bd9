import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API to `make dev` (port 8000) so the refresh cookie stays
// same-origin; production and `make dev` serve the built app from the API's own origin.
const api = process.env.SERVICEDESK_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
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
