// The tracking view a shop puts on its order page: where one parcel is, from
// GET /v1/track/{tracking_number} with the shop's publishable key. It owns its shadow root, its
// one request at a time and nothing else: no polling, the buyer reloads or presses "Try again".
import { createApi, isAbort } from "./api.js";
import { button, h } from "./dom.js";
import { dateRange, eventTime, pickLang, strings } from "./i18n.js";
import STYLES from "./styles.css";

// Past these a parcel is expected nowhere: the expected dates would only mislead.
const FINAL = new Set(["delivered", "returned", "lost", "cancelled"]);
// A mark beside the words, so a status reads the same without its colour.
const MARK = {
  delivered: "✓",
  delivery_failed: "!",
  lost: "!",
  damaged: "!",
  cancelled: "×",
  returning: "↩",
  returned: "↩",
};

export class Tracking {
  constructor(host, options, onDestroy) {
    this.host = host;
    this.options = options;
    this.onDestroy = onDestroy;
    this.lang = pickLang(options.lang);
    this.t = strings(this.lang).track;
    this.life = new AbortController();
    this.dead = false;
    this.request = null;
    this.number = String(options.trackingNumber || "").trim();
    this.api = createApi({ base: options.apiBase, key: options.key, signal: this.life.signal });
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.render();
    this.public = Object.freeze({
      element: host,
      trackingNumber: () => this.number,
      setTrackingNumber: (number) => this.setTrackingNumber(number),
      reload: () => this.load(),
      data: () => this.data,
      destroy: () => this.destroy(),
    });
    this.load();
  }

  render() {
    const { t } = this;
    this.heading = h("h3", { id: "cr-track-title", class: "cr-title", tabindex: "-1", text: t.title });
    this.subtitle = h("p", { class: "cr-sub" });
    this.status = h("p", { class: "cr-status", role: "status" });
    this.alert = h("div", { class: "cr-alert", role: "alert" });
    this.body = h("div", { class: "cr-track-body" });
    this.box = h(
      "section",
      { class: "cr cr-track", lang: this.lang, "aria-labelledby": "cr-track-title" },
      this.heading,
      this.subtitle,
      this.status,
      this.alert,
      this.body,
    );
    this.root.replaceChildren(h("style", { text: STYLES }), this.box);
  }

  setTrackingNumber(number) {
    if (this.dead) return;
    this.number = String(number || "").trim();
    this.load();
  }

  async load({ focus = false } = {}) {
    if (this.dead) return;
    const { t } = this;
    this.request?.abort();
    this.data = null;
    this.alert.replaceChildren();
    this.body.replaceChildren();
    this.box.hidden = !this.number;
    if (!this.number) {
      this.status.textContent = "";
      return;
    }
    this.subtitle.textContent = t.number(this.number);
    this.status.textContent = t.loading;
    this.box.setAttribute("aria-busy", "true");
    const controller = (this.request = new AbortController());
    let data;
    try {
      data = await this.api.get(`v1/track/${encodeURIComponent(this.number)}`, undefined, controller.signal);
    } catch (error) {
      if (isAbort(error) || this.dead || controller !== this.request) return;
      this.box.removeAttribute("aria-busy");
      if (error.status === 404) {
        this.status.textContent = t.notFound(this.number);
      } else {
        this.status.textContent = "";
        const retry = button({ class: "cr-link" }, t.retry);
        retry.addEventListener("click", () => this.load({ focus: true }), { signal: this.life.signal });
        this.alert.replaceChildren(h("span", { text: `${t.failed}. ` }), retry);
      }
      if (focus) this.heading.focus();
      return;
    }
    if (this.dead || controller !== this.request) return;
    this.box.removeAttribute("aria-busy");
    this.data = data;
    this.status.textContent = "";
    this.show(data);
    // The retry button is gone with the error: focus goes to the heading of what replaced it,
    // not to the page's top.
    if (focus) this.heading.focus();
  }

  show(data) {
    const { t, lang } = this;
    const status = statusOf(data.status, t);
    this.subtitle.textContent = [t.number(data.tracking_number), [data.carrier_name, data.service_name].filter(Boolean).join(", ")]
      .filter(Boolean)
      .join(" · ");
    const facts = h(
      "dl",
      { class: "cr-track-facts" },
      h("div", null, h("dt", { text: t.now }), h("dd", { class: "cr-track-now", "data-status": status }, mark(status), t.status[status])),
    );
    if (!FINAL.has(status) && data.expected_from && data.expected_by) {
      facts.append(h("div", null, h("dt", { text: t.expected }), h("dd", { class: "cr-track-expected", text: dateRange(data.expected_from, data.expected_by, lang) })));
    }
    const history = data.history || [];
    const list = history.length
      ? h("ol", { class: "cr-track-history", reversed: true, "aria-labelledby": "cr-track-history" }, ...newestFirst(history).map((step) => this.step(step)))
      : h("p", { class: "cr-empty cr-track-empty", text: t.noHistory });
    this.body.replaceChildren(facts, h("h4", { id: "cr-track-history", class: "cr-track-subtitle", text: t.history }), list);
  }

  step(step) {
    const { t, lang } = this;
    const status = statusOf(step.status, t);
    const when = eventTime(step.at, lang);
    // The city says where the clock was; without one, its offset does.
    const place = step.city || when.offset;
    return h(
      "li",
      { class: "cr-track-step", "data-status": status },
      h("span", { class: "cr-track-word" }, mark(status), t.status[status]),
      step.text && step.text !== step.status ? h("span", { class: "cr-track-text", text: step.text }) : null,
      h(
        "span",
        { class: "cr-track-when" },
        h("time", { datetime: step.at, text: [when.date, when.time].filter(Boolean).join(", ") }),
        place ? `, ${place}` : "",
      ),
    );
  }

  destroy() {
    if (this.dead) return;
    this.dead = true;
    this.life.abort();
    this.root.replaceChildren();
    this.onDestroy();
  }
}

function statusOf(status, t) {
  return status && status in t.status ? status : "unknown";
}

function mark(status) {
  return MARK[status] ? h("span", { class: "cr-track-mark", "aria-hidden": "true", text: `${MARK[status]} ` }) : null;
}

// The carrier's clock orders the history, not the order events arrived in; equal instants keep
// the service's order.
function newestFirst(history) {
  return history
    .map((step, index) => ({ step, index, at: Date.parse(step.at) }))
    .sort((a, b) => (b.at || 0) - (a.at || 0) || b.index - a.index)
    .map(({ step }) => step);
}
