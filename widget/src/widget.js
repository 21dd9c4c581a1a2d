// One mounted widget: the city box, the offers, the pickup-point picker, and the selection it
// hands to the shop as a DOM event and a hidden form field.
import { createApi, isAbort } from "./api.js";
import { createCombobox, placeName } from "./combobox.js";
import { button, h } from "./dom.js";
import { carrierName, dateRange, money, pickLang, strings } from "./i18n.js";
import { absentCarriers, renderOffers } from "./offers.js";
import { Picker } from "./picker.js";
import STYLES from "./styles.css";

export const EVENT_VERSION = 1;
// A selection made this close to the quote's expiry is re-quoted first, so the shop never
// receives a quote id that lapses before its form is submitted.
const FRESH_MS = 60_000;
const MODES = ["pickup", "courier"];
const POINT_FIELDS = ["id", "network", "carrier", "type", "name", "address", "city", "postal_code", "country", "lat", "lon", "timezone"];

let mapModule = null;

export class Widget {
  constructor(host, options, onDestroy) {
    this.host = host;
    this.options = options;
    this.onDestroy = onDestroy;
    this.lang = pickLang(options.lang);
    this.t = strings(this.lang);
    this.life = new AbortController();
    this.dead = false;
    this.api = createApi({ base: options.apiBase, key: options.key, signal: this.life.signal });
    this.quote = null;
    this.place = null;
    this.destination = null;
    this.mode = null;
    this.offerId = null;
    this.point = null;
    this.quoteRequest = null;
    this.setParcelsQuietly(options.parcels);
    this.on = (el, type, fn) => el.addEventListener(type, fn, { signal: this.life.signal });
    this.later = (fn, ms) => {
      const id = setTimeout(fn, ms);
      const cancel = () => clearTimeout(id);
      this.life.signal.addEventListener("abort", cancel, { once: true });
      return cancel;
    };
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.render();
    this.input = this.findInput();
    this.public = Object.freeze({
      element: host,
      setParcels: (parcels) => this.setParcels(parcels),
      setLocation: (location) => this.setLocation(location),
      destroy: () => this.destroy(),
      selection: () => this.selection(),
    });
    if (options.location) this.setLocation(options.location);
  }

  render() {
    const { t, on } = this;
    this.combo = createCombobox({
      t,
      lang: this.lang,
      api: this.api,
      on,
      later: this.later,
      country: this.options.country,
      onChoose: (place) => {
        this.destination = { country: place.country, city: place.name, lat: place.lat, lon: place.lon };
        this.requote();
      },
    });
    this.status = h("p", { class: "cr-status", role: "status" });
    this.alert = h("div", { class: "cr-alert", role: "alert" });
    this.absentList = h("ul", { class: "cr-absent-list" });
    this.absent = h("details", { class: "cr-absent", hidden: true }, h("summary", { text: t.absent }), this.absentList);
    this.modes = h("div", { class: "cr-modes", role: "group", "aria-label": t.mode });
    this.radios = h("div", { class: "cr-offers", role: "radiogroup", "aria-labelledby": "cr-offers-title" });
    this.pickButton = button({ class: "cr-primary" }, t.choosePoint);
    this.pickBar = h("div", { class: "cr-pick-bar", hidden: true }, this.pickButton);
    this.summary = h("p", { class: "cr-summary", hidden: true });
    this.result = h(
      "section",
      { class: "cr-result", hidden: true, "aria-labelledby": "cr-offers-title" },
      h("h3", { id: "cr-offers-title", class: "cr-title", text: t.offersTitle }),
      this.modes,
      this.radios,
      this.pickBar,
      this.summary,
    );
    this.picker = new Picker(this);
    this.root.replaceChildren(
      h("style", { text: STYLES }),
      h("div", { class: "cr", lang: this.lang }, this.combo.el, this.status, this.alert, this.result, this.absent, this.picker.el),
    );

    on(this.modes, "click", (event) => {
      const mode = event.target.closest("[data-mode]")?.dataset.mode;
      if (mode && mode !== this.mode) this.setMode(mode);
    });
    on(this.radios, "change", (event) => {
      if (event.target.type === "radio") this.chooseOffer(event.target.value);
    });
    on(this.radios, "click", (event) => {
      const why = event.target.closest("[data-why]");
      if (!why) return;
      const open = why.getAttribute("aria-expanded") !== "true";
      why.setAttribute("aria-expanded", String(open));
      this.root.getElementById(why.dataset.why).hidden = !open;
    });
    on(this.pickButton, "click", () => this.openPicker());
  }

  // --- what the shop gives -------------------------------------------------------------

  setParcelsQuietly(parcels) {
    if (!Array.isArray(parcels) || !parcels.length) throw new TypeError("CarrierRouter: parcels must be a non-empty array");
    this.parcels = parcels.map((p) => ({
      weight_g: Math.round(Number(p.weight_g)),
      length_cm: Number(p.length_cm),
      width_cm: Number(p.width_cm),
      height_cm: Number(p.height_cm),
    }));
    // A pickup point must take every parcel: filter by the heaviest and the largest sides.
    const sides = this.parcels.map((p) => [p.length_cm, p.width_cm, p.height_cm].sort((a, b) => b - a));
    this.parcel = {
      weight_g: Math.max(...this.parcels.map((p) => p.weight_g)),
      length_cm: Math.max(...sides.map((s) => s[0])),
      width_cm: Math.max(...sides.map((s) => s[1])),
      height_cm: Math.max(...sides.map((s) => s[2])),
    };
  }

  setParcels(parcels) {
    if (this.dead) return;
    this.setParcelsQuietly(parcels);
    if (this.destination) this.requote();
  }

  setLocation(location) {
    if (this.dead) return;
    if (typeof location === "string") {
      this.destination = { city: location };
      this.combo.setText(location);
    } else if (location && typeof location === "object") {
      const { country, city, postal_code, lat, lon } = location;
      this.destination = { country, city: city || location.name, postal_code, lat, lon };
      this.combo.setText(placeName(location, this.lang) || city || "");
    } else {
      throw new TypeError("CarrierRouter: setLocation takes a city name or {city, country, lat, lon}");
    }
    this.requote();
  }

  get originParam() {
    const o = this.options.origin;
    if (o.lat !== undefined && o.lon !== undefined) return `${o.lat},${o.lon}`;
    return o.postal_code || o.city;
  }

  quoteBody() {
    const { origin, declaredValue, cod, policy } = this.options;
    const body = { origin, destination: this.destination, parcels: this.parcels };
    if (declaredValue !== undefined && declaredValue !== "") body.declared_value = String(declaredValue);
    if (cod) body.cod = true;
    if (policy) body.policy = policy;
    return body;
  }

  // --- quoting -----------------------------------------------------------------------------

  async fetchQuote() {
    if (this.quoteRequest) this.quoteRequest.abort();
    const controller = (this.quoteRequest = new AbortController());
    // The service answers names and reasons in the widget's language (docs/api.md, Language).
    return this.api.post(`v1/quotes?lang=${this.lang}`, this.quoteBody(), controller.signal);
  }

  async requote() {
    const { t } = this;
    this.clearSelection();
    this.closePicker(false);
    this.status.textContent = t.quoting;
    this.alert.replaceChildren();
    this.absent.hidden = true;
    this.result.setAttribute("aria-busy", "true");
    performance.mark("carrier-router:quote-start");
    let quote;
    try {
      quote = await this.fetchQuote();
    } catch (error) {
      if (isAbort(error) || this.dead) return;
      this.result.hidden = true;
      this.status.textContent = "";
      const detail = error.problem?.errors?.[0]?.message || error.message;
      const retry = button({ class: "cr-link" }, t.retry);
      this.on(retry, "click", () => this.requote());
      this.alert.replaceChildren(h("span", { text: `${t.failed}: ${detail}. ` }), retry);
      return;
    } finally {
      this.result.removeAttribute("aria-busy");
    }
    if (this.dead) return;
    this.quote = quote;
    this.place = quote.destination;
    this.picker.networks.clear();
    const recommended = quote.offers.find((o) => o.id === quote.recommended?.offer_id);
    this.mode = recommended?.delivery_type || MODES.find((m) => quote.offers.some((o) => o.delivery_type === m)) || "pickup";
    this.renderResult();
    const silent = quote.errors.map((e) => carrierName(e, this.lang)).join(", ");
    this.status.textContent = quote.offers.length ? t.offers(quote.offers.length) + (silent ? `. ${t.silent(silent)}` : "") : t.noOffers;
    this.renderAbsent();
    // Measured to the frame that shows the offers: what a buyer waits for.
    requestAnimationFrame(() => {
      if (!this.dead) performance.measure("carrier-router:offers", "carrier-router:quote-start");
    });
  }

  renderAbsent() {
    const absent = absentCarriers(this.quote, this.t, this.lang);
    this.absent.hidden = !absent.length;
    this.absentList.replaceChildren(
      ...absent.map((a) => h("li", { "data-carrier": a.carrier, text: `${a.name}: ${a.reasons.join("; ")}` })),
    );
  }

  setMode(mode) {
    this.mode = mode;
    if (mode !== "pickup") this.closePicker(false);
    this.renderResult();
  }

  renderResult() {
    const { t, quote, lang } = this;
    this.result.hidden = !quote.offers.length;
    this.modes.replaceChildren(
      ...MODES.map((mode) => {
        const offers = quote.offers.filter((o) => o.delivery_type === mode);
        const cheapest = offers.reduce((a, o) => (!a || cents(o.price.total) < cents(a.price.total) ? o : a), null);
        return button(
          { class: "cr-mode", "data-mode": mode, "aria-pressed": String(mode === this.mode), disabled: !offers.length },
          h("span", { text: t[mode] }),
          h("span", { class: "cr-sub", text: cheapest ? t.from(money(cheapest.price.total, cheapest.price.currency, lang)) : t.none }),
        );
      }),
    );
    this.radios.replaceChildren(...renderOffers({ quote, mode: this.mode, chosenId: this.offerId, t, lang }));
    this.pickBar.hidden = this.mode !== "pickup";
    this.pickButton.textContent = this.point ? t.changePoint : t.choosePoint;
    this.renderSummary();
  }

  renderSummary() {
    const { t, lang } = this;
    const offer = this.quote?.offers.find((o) => o.id === this.offerId);
    this.summary.hidden = !offer;
    if (!offer) return;
    const price = money(offer.price.total, offer.price.currency, lang) + (offer.estimate ? ` (${t.estimate})` : "");
    const parts = [`${carrierName(offer, lang)}, ${price}, ${dateRange(offer.eta.min_date, offer.eta.max_date, lang)}`];
    if (offer.delivery_type === "pickup") parts.push(this.point ? `${this.point.name}, ${this.point.address}` : t.pointNeeded);
    this.summary.textContent = `${t.chosen}: ${parts.join(" — ")}`;
  }

  // --- choosing ----------------------------------------------------------------------------

  chooseOffer(id) {
    const offer = this.quote.offers.find((o) => o.id === id);
    if (!offer) return;
    this.offerId = id;
    if (offer.delivery_type === "courier") {
      this.point = null;
      this.emitSelect();
    } else if (this.point && this.point.offer?.id === id) {
      this.emitSelect();
    } else {
      this.point = null;
      this.writeInput("");
      this.renderSummary();
      this.pickButton.textContent = this.t.choosePoint;
    }
  }

  choosePoint(point, offer) {
    this.point = point;
    this.offerId = offer.id;
    this.closePicker(false);
    if (this.mode !== "pickup") this.setMode("pickup");
    else this.renderResult();
    this.pickButton.focus();
    this.emitSelect();
  }

  async emitSelect() {
    if (Date.parse(this.quote.expires_at) - Date.now() < FRESH_MS) {
      const keep = { offerId: this.offerId, point: this.point };
      let fresh;
      try {
        fresh = await this.fetchQuote();
      } catch (error) {
        if (!isAbort(error) && !this.dead) this.alert.textContent = this.t.failed;
        return;
      }
      if (this.dead) return;
      this.quote = fresh;
      if (!fresh.offers.some((o) => o.id === keep.offerId)) {
        this.clearSelection();
        this.renderResult();
        return;
      }
      Object.assign(this, keep);
      this.renderResult();
    }
    const detail = this.selection();
    this.writeInput(JSON.stringify(detail));
    this.renderSummary();
    this.host.dispatchEvent(new CustomEvent("carrier-router:select", { detail, bubbles: true, composed: true }));
    if (this.options.onSelect) this.options.onSelect(detail);
  }

  // The one versioned payload, in the API's own shapes.
  selection() {
    const offer = this.quote?.offers.find((o) => o.id === this.offerId);
    if (!offer || (offer.delivery_type === "pickup" && !this.point)) return null;
    const point = this.point && Object.fromEntries(POINT_FIELDS.map((f) => [f, this.point[f] ?? null]));
    return { version: EVENT_VERSION, quote_id: this.quote.quote_id, offer_id: offer.id, offer, pickup_point: point || null };
  }

  clearSelection() {
    this.offerId = null;
    this.point = null;
    this.writeInput("");
  }

  findInput() {
    const name = this.options.input;
    if (!name) return null;
    const form = this.host.closest("form");
    const named = form?.elements.namedItem(name);
    const found = named instanceof HTMLInputElement ? named : document.querySelector(`input[name="${CSS.escape(name)}"]`);
    if (found) return found;
    this.createdInput = h("input", { type: "hidden", name });
    this.host.after(this.createdInput);
    return this.createdInput;
  }

  writeInput(value) {
    if (!this.input || this.input.value === value) return;
    this.input.value = value;
    this.input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // --- the picker and its map --------------------------------------------------------------

  openPicker() {
    if (!this.quote || !this.place) return;
    this.picker.open();
  }

  closePicker(byBuyer) {
    if (this.picker.el.hidden) return;
    this.picker.hide();
    if (!byBuyer) return;
    this.pickButton.focus();
    const detail = { version: EVENT_VERSION, reason: "dismissed" };
    this.host.dispatchEvent(new CustomEvent("carrier-router:close", { detail, bubbles: true, composed: true }));
    if (this.options.onClose) this.options.onClose(detail);
  }

  async loadMap() {
    if (!mapModule) {
      mapModule = import(new URL(__MAP_CHUNK__, this.options.assetBase).href);
      mapModule.catch(() => (mapModule = null));
    }
    const module = await mapModule;
    // Leaflet's stylesheet goes inside this widget's shadow root, never into the shop's page.
    if (!this.mapStyled && !this.dead) {
      this.root.prepend(h("style", { text: module.css }));
      this.mapStyled = true;
    }
    return module;
  }

  destroy() {
    if (this.dead) return;
    this.dead = true;
    this.life.abort();
    this.picker.destroy();
    this.root.replaceChildren();
    if (this.createdInput) this.createdInput.remove();
    this.onDestroy();
  }
}

// Money arrives as "1234.50": compared in kopecks, never as floats.
function cents(amount) {
  return BigInt(String(amount).replace(".", ""));
}
