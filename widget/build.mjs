// Builds dist/widget.js (a classic script: shops paste one <script> tag) and the map chunk it
// imports only when a buyer opens the map. The chunk's name carries its content hash, so the
// service can let browsers cache it for good while widget.js keeps one address.
import { build } from "esbuild";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, relative } from "node:path";

const dist = new URL("./dist/", import.meta.url).pathname;
const assets = `${dist}widget/assets/`;
const shared = {
  bundle: true,
  minify: true,
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "none",
  loader: { ".css": "text" },
  logLevel: "warning",
  metafile: true,
};

await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const map = await build({
  ...shared,
  entryPoints: { map: "src/map/index.js" },
  format: "esm",
  outdir: assets,
  entryNames: "[name]-[hash]",
});
const mapFile = Object.keys(map.metafile.outputs).find((f) => f.endsWith(".js"));
// Relative to widget.js, wherever a shop or CDN serves the pair from.
const mapPath = relative(dist, mapFile);

await build({
  ...shared,
  entryPoints: ["src/index.js"],
  format: "iife",
  outfile: `${dist}widget.js`,
  define: { __MAP_CHUNK__: JSON.stringify(mapPath) },
});

await writeFile(
  `${dist}manifest.json`,
  JSON.stringify({ widget: "widget.js", map: mapPath, map_name: basename(mapFile) }, null, 2) + "\n",
);
