// Offers as a labelled radio group: carrier, service, badges, price, dates, and on demand the
// price breakdown ("why this price"). An estimate (`offer.estimate`: the carrier did not answer and
// its last price for this very parcel is shown) says so beside its price and in its breakdown: the
// quote does not hold it.
import { button, h } from "./dom.js";
import { carrierName, dateRange, money, serviceName } from "./i18n.js";

const TAG_ORDER = ["recommended", "cheapest", "fastest"];

export function offerWhen(offer, t, lang) {
  return `${dateRange(offer.eta.min_date, offer.eta.max_date, lang)} · ${t.days(offer.eta.min_days, offer.eta.max_days)}`;
}

export function renderOffers({ quote, mode, chosenId, t, lang }) {
  const offers = quote.offers.filter((o) => o.delivery_type === mode);
  return offers.map((offer, i) => {
    const tags = TAG_ORDER.filter((tag) => offer.tags.includes(tag));
    const price = offer.price;
    const breakdownId = `cr-bd-${mode}-${i}`;
    const why = button(
      { class: "cr-why", "aria-expanded": "false", "aria-controls": breakdownId, "data-why": breakdownId },
      t.why,
    );
    const lines = price.breakdown.map((line) =>
      h(
        "tr",
        null,
        // Named by kind in the widget's words: a carrier's own label is English, and a Russian
        // answer names the line by its kind anyway.
        h("th", { scope: "row", text: t.kind[line.kind] || line.label }),
        h("td", { text: money(line.amount, price.currency, lang) }),
      ),
    );
    const reason = offer.id === quote.recommended?.offer_id ? recommendation(quote, t, lang) : null;
    return h(
      "div",
      { class: "cr-offer", "data-offer": offer.id },
      h(
        "label",
        { class: "cr-offer-main" },
        h("input", { type: "radio", name: `cr-offer-${mode}`, value: offer.id, checked: offer.id === chosenId }),
        h(
          "span",
          { class: "cr-offer-body" },
          h(
            "span",
            { class: "cr-offer-title" },
            h("strong", { text: carrierName(offer, lang) }),
            h("span", { class: "cr-sub", text: serviceName(offer, lang) }),
          ),
          tags.length || offer.estimate
            ? h(
                "span",
                { class: "cr-badges" },
                tags.map((tag) => h("span", { class: `cr-badge cr-badge-${tag}`, text: t.tag[tag] })),
                offer.estimate ? h("span", { class: "cr-badge cr-badge-estimate", text: t.estimate }) : null,
              )
            : null,
          h("span", { class: "cr-when", text: offerWhen(offer, t, lang) }),
        ),
        h("span", { class: "cr-price", text: money(price.total, price.currency, lang) }),
      ),
      why,
      h(
        "div",
        { class: "cr-breakdown", id: breakdownId, hidden: true },
        reason ? h("p", { class: "cr-reason", text: reason }) : null,
        offer.estimate ? h("p", { class: "cr-estimate", text: t.estimateNote }) : null,
        h(
          "table",
          null,
          h("caption", { class: "cr-vh", text: `${t.why}: ${carrierName(offer, lang)}` }),
          h("tbody", null, lines),
          h("tfoot", null, h("tr", null, h("th", { scope: "row", text: t.total }), h("td", { text: money(price.total, price.currency, lang) }))),
        ),
      ),
    );
  });
}

function recommendation(quote, t, lang) {
  const rec = quote.recommended;
  const kind = rec.policy;
  if (kind !== "balanced") return t.reason[kind] || rec.reason;
  const s = rec.score;
  const currency = quote.offers[0]?.price.currency || "RUB";
  return t.reason.balanced({
    price: money(s.price, currency, lang),
    days: s.days,
    dayValue: money(s.day_value, currency, lang),
    total: money(s.total, currency, lang),
  });
}

// Every carrier that was asked and offers nothing here, with why: its reasons for refusing (the
// service words them in the widget's language; a carrier's own words stay as it said them), or
// that it did not answer. A carrier is never left out of the answer without a word.
export function absentCarriers(quote, t, lang) {
  const offering = new Set(quote.offers.map((o) => o.carrier));
  const why = new Map();
  const add = (named, reason) => {
    const carrier = named.carrier;
    if (offering.has(carrier)) return;
    if (!why.has(carrier)) why.set(carrier, { name: carrierName(named, lang) || carrier, reasons: new Set() });
    why.get(carrier).reasons.add(reason);
  };
  for (const r of quote.rejections) add(r, (lang === "ru" && r.reason_ru) || r.reason);
  for (const e of quote.errors) add(e, t.noAnswer);
  return [...why].map(([carrier, { name, reasons }]) => ({ carrier, name, reasons: [...reasons] }));
}
