// The pickup-point picker: filters, the list (the accessible path, a focusable listbox) and the
// map on demand. The list holds the points nearest the map's centre, priced; the map holds the
// server's clusters for its viewport. Both follow the same filters, and activating a point in
// either shows it in the other.
import { isAbort } from "./api.js";
import { button, h } from "./dom.js";
import { carrierName, dateRange, money } from "./i18n.js";

const LIST_LIMIT = 50;
const PAGE = 5;
const FEATURES = ["fitting_room", "card", "cod"];
const WIDE_PX = 640;
const FRAME_POINTS = 10;

export class Picker {
  constructor(widget) {
    this.w = widget;
    this.points = [];
    this.active = -1;
    this.center = null;
    this.networks = new Map();
    this.filters = { networks: new Set(), features: new Set(), openNow: false };
    this.map = null;
    this.mapOpen = false;
    this.listRequest = null;
    this.mapRequest = null;
    this.build();
  }

  build() {
    const { t, on } = this.w;
    this.close = button({ class: "cr-icon", "aria-label": t.close, title: t.close }, "×");
    this.networkChips = h("span", { class: "cr-chips" });
    const featureChips = FEATURES.map((f) => this.chip(t.feature[f], "feature", f));
    this.filterBox = h(
      "fieldset",
      { class: "cr-filters" },
      h("legend", { class: "cr-vh", text: t.filters }),
      this.networkChips,
      h("span", { class: "cr-chips" }, featureChips, this.chip(t.openNow, "open", "now")),
    );
    this.count = h("span", { class: "cr-count", role: "status" });
    this.mapToggle = button({ class: "cr-link", "aria-expanded": "false", "aria-controls": "cr-map" }, t.showMap);
    this.list = h("ul", { id: "cr-points", class: "cr-points", role: "listbox", tabindex: "0", "aria-label": t.points });
    this.canvas = h("div", { class: "cr-map-canvas", role: "region", "aria-label": t.map });
    this.mapNote = h("p", { class: "cr-note", hidden: true });
    this.mapPane = h("div", { id: "cr-map", class: "cr-map", hidden: true }, this.canvas, this.mapNote);
    this.select = button({ class: "cr-primary", disabled: true }, t.select);
    this.el = h(
      "section",
      { class: "cr-picker", "aria-labelledby": "cr-picker-title", hidden: true },
      h("div", { class: "cr-picker-head" }, h("h3", { id: "cr-picker-title", text: t.points }), this.close),
      this.filterBox,
      h("div", { class: "cr-picker-bar" }, this.count, this.mapToggle),
      h("div", { class: "cr-picker-body" }, this.list, this.mapPane),
      h("div", { class: "cr-picker-foot" }, this.select),
    );

    on(this.close, "click", () => this.w.closePicker(true));
    on(this.el, "keydown", (event) => {
      if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        this.w.closePicker(true);
      }
    });
    on(this.filterBox, "change", (event) => this.onFilter(event.target));
    on(this.mapToggle, "click", () => (this.mapOpen ? this.hideMap() : this.showMap()));
    on(this.select, "click", () => this.choose(this.active));
    on(this.list, "keydown", (event) => this.onListKey(event));
    on(this.list, "focus", () => {
      if (this.active < 0 && this.points.length) this.setActive(0);
    });
    on(this.list, "click", (event) => {
      const li = event.target.closest("li[data-index]");
      if (li) this.setActive(Number(li.dataset.index));
    });
    on(this.list, "dblclick", (event) => {
      const li = event.target.closest("li[data-index]");
      if (li) this.choose(Number(li.dataset.index));
    });
  }

  chip(label, kind, value) {
    return h(
      "label",
      { class: "cr-chip" },
      h("input", { type: "checkbox", "data-kind": kind, value }),
      h("span", { text: label }),
    );
  }

  open() {
    const { place } = this.w;
    this.center = { lat: place.lat, lon: place.lon };
    this.el.hidden = false;
    this.listLoading = this.loadList();
    // Room for both: the map opens with the list. On a phone the list comes first.
    if (this.w.host.getBoundingClientRect().width >= WIDE_PX) this.showMap();
    else if (this.map) this.map.center(this.center);
    this.list.focus({ preventScroll: true });
    // Scrolled once the list is in: before, the page may be too short to bring the picker up.
    this.listLoading.then(() => {
      if (!this.el.hidden && !this.w.dead) this.el.scrollIntoView({ block: "start" });
    });
  }

  hide() {
    this.el.hidden = true;
    if (this.listRequest) this.listRequest.abort();
    if (this.mapRequest) this.mapRequest.abort();
  }

  destroy() {
    this.hide();
    if (this.map) this.map.destroy();
    this.map = null;
  }

  params() {
    const { parcel } = this.w;
    const f = this.filters;
    return {
      weight_g: parcel.weight_g,
      length_cm: parcel.length_cm,
      width_cm: parcel.width_cm,
      height_cm: parcel.height_cm,
      network: [...f.networks].join(","),
      features: [...f.features].join(","),
      open_at: f.openNow ? "now" : "",
    };
  }

  onFilter(input) {
    const f = this.filters;
    const set = input.dataset.kind === "network" ? f.networks : f.features;
    if (input.dataset.kind === "open") f.openNow = input.checked;
    else if (input.checked) set.add(input.value);
    else set.delete(input.value);
    this.loadList();
    if (this.map) this.map.refresh();
  }

  async loadList(activateId = null) {
    const { api, t } = this.w;
    if (this.listRequest) this.listRequest.abort();
    const controller = (this.listRequest = new AbortController());
    this.list.setAttribute("aria-busy", "true");
    this.count.textContent = t.loadingPoints;
    const keep = activateId || this.points[this.active]?.id;
    try {
      const body = await api.get(
        "v1/pickup-points",
        { lat: this.center.lat.toFixed(5), lon: this.center.lon.toFixed(5), limit: LIST_LIMIT, origin: this.w.originParam, lang: this.w.lang, ...this.params() },
        controller.signal,
      );
      this.points = body.points;
    } catch (error) {
      if (isAbort(error) || this.w.dead) return;
      this.points = [];
      this.renderList(null, t.pointsFailed);
      return;
    } finally {
      if (this.listRequest === controller) this.list.removeAttribute("aria-busy");
    }
    this.learnNetworks(this.points);
    this.renderList(keep);
  }

  learnNetworks(points) {
    const { t, quote, lang } = this.w;
    let added = false;
    for (const p of points) {
      if (this.networks.has(p.network)) continue;
      const offer = quote.offers.find((o) => o.carrier === p.network) || quote.offers.find((o) => o.carrier === p.carrier);
      this.networks.set(p.network, offer ? carrierName(offer, lang) : p.network);
      added = true;
    }
    if (!added) return;
    this.networkChips.replaceChildren(
      ...[...this.networks].map(([code, name]) => {
        const chip = this.chip(name, "network", code);
        chip.querySelector("input").checked = this.filters.networks.has(code);
        return chip;
      }),
    );
    this.networkChips.setAttribute("aria-label", t.filters);
  }

  // The price and dates a buyer would lock: the quote's own offer for the point's carrier and
  // service. A point's standalone price is quoted without the declared value and COD, so it
  // can differ from the quote by insurance; the quote is what the checkout is held to.
  offerFor(point) {
    const id = point.offer?.id;
    return id ? this.w.quote.offers.find((o) => o.id === id) || null : null;
  }

  renderList(keepId, empty = this.w.t.noPoints) {
    const { t, lang } = this.w;
    this.active = -1;
    this.list.removeAttribute("aria-activedescendant");
    this.select.disabled = true;
    if (!this.points.length) {
      this.list.replaceChildren(h("li", { class: "cr-empty", role: "presentation", text: empty }));
      this.count.textContent = empty;
      if (this.map) this.map.setActive(null);
      return;
    }
    this.list.replaceChildren(...this.points.map((p, i) => this.option(p, i, t, lang)));
    this.updateCount();
    const keep = keepId ? this.points.findIndex((p) => p.id === keepId) : -1;
    if (keep >= 0) this.setActive(keep, { pan: false });
    else if (this.map) this.map.setActive(null);
  }

  updateCount() {
    const { t } = this.w;
    const parts = [t.nearby(this.points.length)];
    if (this.mapOpen && this.mapTotal !== undefined) parts.push(t.onMap(this.mapTotal));
    this.count.textContent = parts.join(" · ");
  }

  option(point, index, t, lang) {
    const offer = this.offerFor(point);
    const features = FEATURES.filter((f) => point.features.includes(f)).map((f) => t.feature[f]);
    const meta = [
      offer ? dateRange(offer.eta.min_date, offer.eta.max_date, lang) : null,
      point.open_now ? t.openNow : t.closedNow,
      ...features,
    ].filter(Boolean);
    return h(
      "li",
      {
        id: `cr-pt-${index}`,
        class: "cr-pt",
        role: "option",
        "aria-selected": "false",
        "aria-disabled": offer ? null : "true",
        "data-index": index,
        "data-id": point.id,
      },
      h(
        "span",
        { class: "cr-pt-row" },
        h("span", { class: "cr-pt-name" }, h("span", { class: "cr-sub", text: `${this.networks.get(point.network) || point.network} · ${t.type[point.type] || point.type}` }), point.name),
        h("span", { class: "cr-price", text: offer ? money(offer.price.total, offer.price.currency, lang) : "—" }),
      ),
      h("span", { class: "cr-pt-addr", text: `${point.address} · ${t.km(point.distance_km)}` }),
      h("span", { class: "cr-pt-meta", text: meta.join(" · ") }),
      offer ? null : h("span", { class: "cr-pt-why", text: t.cannot }),
    );
  }

  setActive(index, { pan = true } = {}) {
    const items = this.list.children;
    if (index < 0 || index >= this.points.length) return;
    if (this.active >= 0 && items[this.active]) items[this.active].setAttribute("aria-selected", "false");
    this.active = index;
    items[index].setAttribute("aria-selected", "true");
    this.list.setAttribute("aria-activedescendant", items[index].id);
    items[index].scrollIntoView({ block: "nearest" });
    this.select.disabled = !this.offerFor(this.points[index]);
    if (this.map) this.map.setActive(this.points[index], { pan });
  }

  onListKey(event) {
    const n = this.points.length;
    if (!n) return;
    const moves = {
      ArrowDown: Math.min(n - 1, this.active + 1),
      ArrowUp: Math.max(0, this.active - 1),
      Home: 0,
      End: n - 1,
      PageDown: Math.min(n - 1, this.active + PAGE),
      PageUp: Math.max(0, this.active - PAGE),
    };
    if (event.key in moves) {
      event.preventDefault();
      this.setActive(moves[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.choose(this.active);
    }
  }

  choose(index) {
    const point = this.points[index];
    if (!point) return;
    const offer = this.offerFor(point);
    if (!offer) {
      this.count.textContent = this.w.t.cannot;
      return;
    }
    this.w.choosePoint(point, offer);
  }

  async showMap() {
    const { t } = this.w;
    this.mapOpen = true;
    this.mapPane.hidden = false;
    this.mapToggle.setAttribute("aria-expanded", "true");
    this.mapToggle.textContent = t.hideMap;
    this.el.classList.add("cr-with-map");
    if (this.map) {
      this.map.resize();
      this.map.center(this.center);
      return;
    }
    this.mapNote.hidden = false;
    this.mapNote.textContent = t.mapLoading;
    let module;
    try {
      module = await this.w.loadMap();
    } catch {
      if (!this.w.dead) this.mapNote.textContent = t.mapFailed;
      return;
    }
    // The first view frames the nearest points of the list, so the two start out showing the same.
    await this.listLoading;
    if (this.w.dead || this.map) return;
    this.mapNote.hidden = true;
    this.map = module.createMap(this.canvas, {
      lat: this.center.lat,
      lon: this.center.lon,
      zoom: 13,
      frame: this.points.slice(0, FRAME_POINTS).map((p) => [p.lat, p.lon]),
      tileUrl: this.w.options.tileUrl,
      attribution: this.w.options.tileAttribution,
      zoomIn: t.zoomIn,
      zoomOut: t.zoomOut,
      clusterLabel: t.cluster,
      siteLabel: (f) => `${f.properties.networks.map((n) => this.networks.get(n) || n).join(", ")}: ${t.cluster(f.properties.count)}`,
      onMove: (view) => this.onMapMove(view),
      onSite: (feature) => this.onSite(feature),
    });
    if (this.active >= 0) this.map.setActive(this.points[this.active], { pan: true });
  }

  hideMap() {
    this.mapOpen = false;
    this.mapPane.hidden = true;
    this.mapToggle.setAttribute("aria-expanded", "false");
    this.mapToggle.textContent = this.w.t.showMap;
    this.el.classList.remove("cr-with-map");
    this.updateCount();
  }

  async onMapMove({ bbox, zoom, center, user }) {
    if (user) {
      this.center = center;
      this.loadList();
    }
    if (this.mapRequest) this.mapRequest.abort();
    const controller = (this.mapRequest = new AbortController());
    const { weight_g, length_cm, width_cm, height_cm, network, features, open_at } = this.params();
    try {
      const body = await this.w.api.get(
        "v1/pickup-points",
        { bbox: bbox.map((v) => v.toFixed(5)).join(","), zoom, weight_g, length_cm, width_cm, height_cm, network, features, open_at },
        controller.signal,
      );
      if (this.w.dead || !this.map) return;
      this.map.setFeatures(body.features);
      this.mapTotal = body.total;
      this.updateCount();
    } catch (error) {
      if (!isAbort(error) && !this.w.dead) this.mapNote.hidden = true;
    }
  }

  async onSite(feature) {
    const ids = feature.properties.points || [];
    const found = this.points.findIndex((p) => ids.includes(p.id));
    if (found >= 0) {
      this.setActive(found, { pan: false });
      return;
    }
    const [lon, lat] = feature.geometry.coordinates;
    this.center = { lat, lon };
    await this.loadList(ids[0]);
  }
}
