// window.CarrierRouter: mount(element, options) for pages built in code, and the one-tag embed
// <script src=".../widget.js" data-key="pk_…" data-origin-city="Москва" data-weight-g="1200" …>;
// the tracking view likewise: mountTracking(element, options), data-tracking-number on the tag,
// or a <carrier-router-tracking tracking-number="…"> element anywhere on the page.
import { Tracking } from "./track.js";
import { Widget } from "./widget.js";

const script = document.currentScript;
// The service that served this script answers its API and serves its chunks, wherever it lives.
const scriptBase = script && script.src ? new URL("./", script.src).href : new URL("/", location.href).href;
const instances = new WeakMap();

function number(value) {
  return value === undefined || value === "" ? undefined : Number(value);
}

function fromDataset(d) {
  const options = {
    key: d.key,
    lang: d.lang,
    input: d.input,
    apiBase: d.api,
    tileUrl: d.tileUrl,
    tileAttribution: d.tileAttribution,
    country: d.country,
    location: d.city,
    declaredValue: d.declaredValue,
    cod: d.cod === "" || d.cod === "true",
    policy: d.policy,
    origin: { city: d.originCity, postal_code: d.originPostalCode, country: d.originCountry },
  };
  if (d.parcels) options.parcels = JSON.parse(d.parcels);
  else if (d.weightG) {
    options.parcels = [
      { weight_g: number(d.weightG), length_cm: number(d.lengthCm), width_cm: number(d.widthCm), height_cm: number(d.heightCm) },
    ];
  }
  return options;
}

const OSM = {
  url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
  attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
};

function normalize(options) {
  const origin = Object.fromEntries(Object.entries(options.origin || {}).filter(([, v]) => v !== undefined && v !== ""));
  if (!Object.keys(origin).length) throw new TypeError("CarrierRouter: give an origin (data-origin-city or options.origin)");
  // An empty tile URL turns tiles off: the list and the points still work without them.
  const tileUrl = options.tileUrl === undefined ? OSM.url : options.tileUrl;
  return {
    ...options,
    key: options.key || "",
    apiBase: options.apiBase ? new URL(options.apiBase, location.href).href : scriptBase,
    assetBase: options.assetBase || scriptBase,
    origin,
    parcels: options.parcels || [{ weight_g: 1000, length_cm: 20, width_cm: 15, height_cm: 10 }],
    tileUrl,
    tileAttribution: options.tileAttribution ?? (tileUrl === OSM.url ? OSM.attribution : ""),
  };
}

function mount(target, options = {}) {
  const element = typeof target === "string" ? document.querySelector(target) : target;
  if (!(element instanceof HTMLElement)) throw new TypeError(`CarrierRouter.mount: no element ${target}`);
  // Mounting twice on one element replaces the widget rather than stacking a second one.
  instances.get(element)?.destroy();
  const widget = new Widget(element, normalize(options), () => {
    if (instances.get(element) === widget.public) instances.delete(element);
  });
  instances.set(element, widget.public);
  return widget.public;
}

function mountTracking(target, options = {}) {
  const element = typeof target === "string" ? document.querySelector(target) : target;
  if (!(element instanceof HTMLElement)) throw new TypeError(`CarrierRouter.mountTracking: no element ${target}`);
  instances.get(element)?.destroy();
  const view = new Tracking(
    element,
    {
      ...options,
      key: options.key || "",
      apiBase: options.apiBase ? new URL(options.apiBase, location.href).href : scriptBase,
    },
    () => {
      if (instances.get(element) === view.public) instances.delete(element);
    },
  );
  instances.set(element, view.public);
  return view.public;
}

function trackingFromDataset(d, lang) {
  return { trackingNumber: d.trackingNumber, key: d.key, lang: d.lang || lang, apiBase: d.api };
}

// <carrier-router-tracking tracking-number="…" data-key="pk_…" lang="ru">: the same key and
// service attributes as the script tag; changing the number shows the other parcel.
class TrackingElement extends HTMLElement {
  static observedAttributes = ["tracking-number", "lang", "data-lang", "data-key", "data-api"];

  connectedCallback() {
    this.mountView();
  }

  disconnectedCallback() {
    instances.get(this)?.destroy();
  }

  attributeChangedCallback(name, before, after) {
    // The parser sets every attribute before the element is connected: mount once, then.
    if (!this.isConnected || before === after || !instances.get(this)) return;
    if (name === "tracking-number") instances.get(this).setTrackingNumber(after);
    else this.mountView();
  }

  mountView() {
    mountTracking(this, {
      ...trackingFromDataset(this.dataset, this.getAttribute("lang")),
      trackingNumber: this.getAttribute("tracking-number") || "",
    });
  }
}

function autoMount() {
  const d = script.dataset;
  const target = d.target ? document.querySelector(d.target) : null;
  if (d.target && !target) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoMount, { once: true });
    else console.error(`CarrierRouter: no element ${d.target} for data-target`);
    return;
  }
  let element = target;
  if (!element) {
    element = document.createElement("div");
    script.after(element);
  }
  if (d.trackingNumber !== undefined) mountTracking(element, trackingFromDataset(d));
  else mount(element, fromDataset(d));
}

if (!window.CarrierRouter) {
  window.CarrierRouter = Object.freeze({ version: "1", mount, mountTracking, get: (element) => instances.get(element) || null });
}
if (!customElements.get("carrier-router-tracking")) customElements.define("carrier-router-tracking", TrackingElement);
if (script && Object.keys(script.dataset).length) autoMount();
