// The map chunk, loaded only when a buyer opens the map. It draws what the service clustered
// for the viewport (never the whole network) and reports moves, debounced, so the widget can
// ask for the next viewport.
import { DomEvent, control, divIcon, layerGroup, map as leafletMap, marker, tileLayer } from "leaflet/dist/leaflet-src.esm.js";
import leafletCss from "leaflet/dist/leaflet.css";
import ownCss from "./map.css";

export const css = leafletCss + ownCss;

const MOVE_DEBOUNCE_MS = 200;
const MAX_ZOOM = 19;

export function createMap(element, options) {
  const map = leafletMap(element, { maxZoom: MAX_ZOOM, zoomControl: false, attributionControl: true });
  const zoom = control.zoom({ zoomInTitle: options.zoomIn, zoomOutTitle: options.zoomOut }).addTo(map);
  if (options.frame && options.frame.length > 1) map.fitBounds(options.frame, { padding: [24, 24], maxZoom: 15 });
  else map.setView([options.lat, options.lon], options.zoom);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (options.tileUrl) {
    tileLayer(options.tileUrl, { attribution: options.attribution, maxZoom: MAX_ZOOM }).addTo(map);
  }
  // Leaflet's zoom buttons are links; clicks on them must not reach a form around the widget.
  DomEvent.disableClickPropagation(zoom.getContainer());

  const layer = layerGroup().addTo(map);
  const markers = new Map();
  let active = null;
  let timer = null;
  // A move the widget asked for may end without a moveend (nothing to pan), so its mark expires.
  let quietUntil = 0;
  let userMoved = false;
  const hush = () => (quietUntil = performance.now() + 1000);

  function view() {
    const bounds = map.getBounds();
    const center = map.getCenter().wrap();
    const clampLon = (v) => Math.max(-180, Math.min(180, v));
    const clampLat = (v) => Math.max(-90, Math.min(90, v));
    return {
      bbox: [clampLon(bounds.getWest()), clampLat(bounds.getSouth()), clampLon(bounds.getEast()), clampLat(bounds.getNorth())],
      zoom: Math.max(0, Math.min(20, Math.round(map.getZoom()))),
      center: { lat: center.lat, lon: center.lng },
    };
  }

  function report() {
    timer = null;
    const user = userMoved;
    userMoved = false;
    options.onMove({ ...view(), user });
  }

  map.on("moveend", () => {
    // Moves the widget asked for (showing a point from the list) must not reorder that list.
    if (performance.now() > quietUntil) userMoved = true;
    quietUntil = 0;
    clearTimeout(timer);
    timer = setTimeout(report, MOVE_DEBOUNCE_MS);
  });

  function makeMarker(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    const { kind, count } = feature.properties;
    const cluster = kind === "cluster";
    const size = cluster ? (count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48) : 20;
    const label = cluster ? options.clusterLabel(count) : options.siteLabel(feature);
    const m = marker([lat, lon], {
      icon: divIcon({
        className: `cr-m ${cluster ? "cr-m-cluster" : "cr-m-site"}`,
        html: cluster || count > 1 ? `<span>${count}</span>` : "",
        iconSize: [size, size],
      }),
      // The list is the keyboard path; markers stay out of the tab order.
      keyboard: false,
      title: label,
      riseOnHover: true,
    });
    m.on("add", () => {
      const el = m.getElement();
      el.setAttribute("role", "img");
      el.setAttribute("aria-label", label);
    });
    m.on("click", () => {
      if (cluster) map.setView([lat, lon], Math.min(map.getZoom() + 2, MAX_ZOOM));
      else options.onSite(feature);
    });
    return m;
  }

  timer = setTimeout(report, 0);

  return {
    setFeatures(features) {
      const seen = new Set();
      for (const feature of features) {
        seen.add(feature.id);
        if (!markers.has(feature.id)) {
          const m = makeMarker(feature);
          markers.set(feature.id, m);
          layer.addLayer(m);
        }
      }
      for (const [id, m] of markers) {
        if (!seen.has(id)) {
          layer.removeLayer(m);
          markers.delete(id);
        }
      }
    },
    setActive(point, { pan = true } = {}) {
      if (!point) {
        if (active) active.remove();
        active = null;
        return;
      }
      const at = [point.lat, point.lon];
      if (!active) {
        active = marker(at, {
          icon: divIcon({ className: "cr-m cr-m-active", iconSize: [26, 26] }),
          interactive: false,
          keyboard: false,
          zIndexOffset: 1000,
        }).addTo(map);
      } else {
        active.setLatLng(at);
      }
      if (pan && !map.getBounds().pad(-0.15).contains(at)) {
        hush();
        map.panTo(at);
      }
    },
    center({ lat, lon }) {
      hush();
      map.setView([lat, lon], map.getZoom());
    },
    refresh() {
      clearTimeout(timer);
      report();
    },
    resize() {
      map.invalidateSize();
    },
    destroy() {
      clearTimeout(timer);
      map.remove();
      markers.clear();
    },
  };
}
