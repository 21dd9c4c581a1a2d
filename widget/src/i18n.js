// Every word the buyer reads, in Russian and English, and the formats of money, dates and counts.

const ru = {
  city: "Город доставки",
  cityHint: "Например, Новосибирск",
  cityList: "Подходящие города",
  noCity: "Такого города нет в списке",
  cities: (n) => plural("ru", n, `Найден ${n} город`, `Найдено ${n} города`, `Найдено ${n} городов`),
  quoting: "Считаем доставку…",
  offersTitle: "Варианты доставки",
  offers: (n) => plural("ru", n, `${n} вариант доставки`, `${n} варианта доставки`, `${n} вариантов доставки`),
  noOffers: "Сюда никто не доставляет такую посылку",
  failed: "Не удалось посчитать доставку",
  retry: "Повторить",
  silent: (names) => `Не ответили: ${names}`,
  absent: "Почему нет других служб",
  noAnswer: "не ответила",
  mode: "Способ получения",
  courier: "Курьером",
  pickup: "В пункт выдачи",
  from: (price) => `от ${price}`,
  none: "нет вариантов",
  tag: { cheapest: "Дешевле всех", fastest: "Быстрее всех", recommended: "Рекомендуем" },
  why: "Почему такая цена",
  estimate: "оценка",
  estimateNote: "Служба доставки сейчас не отвечает: это её последняя цена для такой же посылки. Цена не закреплена и может измениться.",
  total: "Итого",
  kind: {
    base: "Тариф",
    weight: "За вес",
    fuel: "Топливный сбор",
    insurance: "Страховка",
    cod: "Наложенный платёж",
    remote_area: "Удалённый район",
    distance: "За расстояние",
    oversize: "Негабарит",
    discount: "Скидка",
    other: "Прочее",
  },
  days: (a, b) => {
    const n = b;
    const range = a === b ? `${a}` : `${a}–${b}`;
    return `${range} ${plural("ru", n, "рабочий день", "рабочих дня", "рабочих дней")}`;
  },
  reason: {
    cheapest: "Самая низкая цена.",
    fastest: "Самая быстрая доставка.",
    deadline: "Самый дешёвый вариант из успевающих к сроку.",
    balanced: (s) =>
      `Лучшее сочетание цены и срока: ${s.price} + ${s.days} × ${s.dayValue} за день = ${s.total}.`,
  },
  choosePoint: "Выбрать пункт выдачи",
  changePoint: "Выбрать другой пункт",
  pointNeeded: "Выберите пункт выдачи, чтобы закончить",
  chosen: "Выбрано",
  points: "Пункты выдачи",
  close: "Закрыть",
  filters: "Фильтры",
  feature: { fitting_room: "Примерочная", card: "Оплата картой", cod: "Оплата при получении" },
  openNow: "Открыто сейчас",
  closedNow: "Сейчас закрыто",
  showMap: "Показать карту",
  hideMap: "Скрыть карту",
  map: "Карта пунктов выдачи",
  zoomIn: "Приблизить",
  zoomOut: "Отдалить",
  mapLoading: "Загружаем карту…",
  mapFailed: "Карта не загрузилась — выберите пункт в списке",
  nearby: (n) => plural("ru", n, `${n} пункт рядом`, `${n} пункта рядом`, `${n} пунктов рядом`),
  onMap: (n) => `на карте: ${n}`,
  cluster: (n) => plural("ru", n, `${n} пункт выдачи`, `${n} пункта выдачи`, `${n} пунктов выдачи`),
  noPoints: "Нет пунктов с такими условиями",
  loadingPoints: "Ищем пункты…",
  pointsFailed: "Не удалось загрузить пункты выдачи",
  select: "Выбрать этот пункт",
  cannot: "Эта служба не доставит сюда посылку",
  type: { pvz: "Пункт выдачи", locker: "Постамат", post: "Почта", store: "Магазин" },
  km: (km) => `${formatNumber("ru", km)} км`,
  track: {
    title: "Где посылка",
    number: (n) => `Трек-номер ${n}`,
    loading: "Узнаём, где посылка…",
    notFound: (n) => `Посылки с трек-номером ${n} не найдено. Проверьте номер: он бывает в письме о заказе.`,
    failed: "Не удалось узнать, где посылка",
    retry: "Попробовать снова",
    now: "Сейчас",
    expected: "Ожидается",
    history: "История",
    noHistory: "Перевозчик ещё не сообщал о посылке.",
    status: {
      created: "Заказ оформлен",
      accepted: "Принята перевозчиком",
      in_transit: "В пути",
      at_pickup_point: "Ждёт в пункте выдачи",
      out_for_delivery: "Передана курьеру",
      delivered: "Доставлена",
      delivery_failed: "Не удалось доставить",
      returning: "Возвращается отправителю",
      returned: "Возвращена отправителю",
      lost: "Утеряна",
      damaged: "Повреждена",
      cancelled: "Отменена",
      unknown: "Статус уточняется",
    },
  },
};

const en = {
  city: "Delivery city",
  cityHint: "e.g. Novosibirsk",
  cityList: "Matching cities",
  noCity: "No such city in the list",
  cities: (n) => plural("en", n, `${n} city found`, "", `${n} cities found`),
  quoting: "Calculating delivery…",
  offersTitle: "Delivery options",
  offers: (n) => plural("en", n, `${n} delivery option`, "", `${n} delivery options`),
  noOffers: "No carrier delivers this parcel here",
  failed: "Could not calculate delivery",
  retry: "Try again",
  silent: (names) => `Did not answer: ${names}`,
  absent: "Why not other carriers",
  noAnswer: "did not answer",
  mode: "How to receive",
  courier: "Courier",
  pickup: "Pickup point",
  from: (price) => `from ${price}`,
  none: "no options",
  tag: { cheapest: "Cheapest", fastest: "Fastest", recommended: "Recommended" },
  why: "Why this price",
  estimate: "estimate",
  estimateNote: "The carrier is not answering right now: this is its last price for the same parcel. The price is not held and may change.",
  total: "Total",
  kind: {
    base: "Base rate",
    weight: "Weight",
    fuel: "Fuel surcharge",
    insurance: "Insurance",
    cod: "Cash on delivery",
    remote_area: "Remote area",
    distance: "Distance",
    oversize: "Oversize",
    discount: "Discount",
    other: "Other",
  },
  days: (a, b) => `${a === b ? a : `${a}–${b}`} business ${b === 1 ? "day" : "days"}`,
  reason: {
    cheapest: "The lowest price.",
    fastest: "The fastest delivery.",
    deadline: "The cheapest option that arrives by the deadline.",
    balanced: (s) => `Best price for the time: ${s.price} + ${s.days} × ${s.dayValue} a day = ${s.total}.`,
  },
  choosePoint: "Choose a pickup point",
  changePoint: "Choose another point",
  pointNeeded: "Choose a pickup point to finish",
  chosen: "Chosen",
  points: "Pickup points",
  close: "Close",
  filters: "Filters",
  feature: { fitting_room: "Fitting room", card: "Card payment", cod: "Cash on delivery" },
  openNow: "Open now",
  closedNow: "Closed now",
  showMap: "Show map",
  hideMap: "Hide map",
  map: "Map of pickup points",
  zoomIn: "Zoom in",
  zoomOut: "Zoom out",
  mapLoading: "Loading the map…",
  mapFailed: "The map did not load — choose a point in the list",
  nearby: (n) => plural("en", n, `${n} point nearby`, "", `${n} points nearby`),
  onMap: (n) => `${n} on the map`,
  cluster: (n) => plural("en", n, `${n} pickup point`, "", `${n} pickup points`),
  noPoints: "No pickup points match",
  loadingPoints: "Finding pickup points…",
  pointsFailed: "Could not load pickup points",
  select: "Choose this point",
  cannot: "This carrier cannot deliver the parcel here",
  type: { pvz: "Pickup point", locker: "Parcel locker", post: "Post office", store: "Store" },
  km: (km) => `${formatNumber("en", km)} km`,
  track: {
    title: "Where is the parcel",
    number: (n) => `Tracking number ${n}`,
    loading: "Finding the parcel…",
    notFound: (n) => `No parcel with tracking number ${n}. Check the number: it is usually in the order email.`,
    failed: "Could not find out where the parcel is",
    retry: "Try again",
    now: "Now",
    expected: "Expected",
    history: "History",
    noHistory: "The carrier has not reported on the parcel yet.",
    status: {
      created: "Order placed",
      accepted: "Accepted by the carrier",
      in_transit: "In transit",
      at_pickup_point: "Waiting at the pickup point",
      out_for_delivery: "Out for delivery",
      delivered: "Delivered",
      delivery_failed: "Delivery failed",
      returning: "Returning to the sender",
      returned: "Returned to the sender",
      lost: "Lost",
      damaged: "Damaged",
      cancelled: "Cancelled",
      unknown: "Status being clarified",
    },
  },
};

const STRINGS = { ru, en };

export function strings(lang) {
  return STRINGS[lang] || ru;
}

// The service answers in the widget's language, and every answer also names carriers and
// services in Russian: the Russian name is taken from there, whatever language a cached answer was.
export function carrierName(named, lang) {
  return (lang === "ru" && named.carrier_name_ru) || named.carrier_name || named.carrier;
}

export function serviceName(offer, lang) {
  return (lang === "ru" && offer.service_name_ru) || offer.service_name;
}

export function pickLang(wanted) {
  const lang = String(wanted || document.documentElement.lang || navigator.language || "ru").slice(0, 2).toLowerCase();
  return lang in STRINGS ? lang : lang === "" ? "ru" : "en";
}

// Intl objects are slow to build and a list of fifty points formats hundreds of values: one of
// each per language and options.
const formats = new Map();
function cached(kind, lang, options) {
  const key = `${kind.name}|${lang}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) formats.set(key, (format = new kind(lang, options)));
  return format;
}

function plural(lang, n, one, few, many) {
  const rule = cached(Intl.PluralRules, lang).select(n);
  if (rule === "one") return one;
  if (rule === "few") return few || many;
  return many;
}

function formatNumber(lang, value) {
  return cached(Intl.NumberFormat, lang, { maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
}

// Amounts stay strings end to end ("1234.50"); only digits are regrouped, so no float ever
// rounds a kopeck away.
export function money(amount, currency, lang) {
  const [whole, cents = "00"] = String(amount).replace(/^-/, "").split(".");
  const sign = String(amount).startsWith("-") ? "−" : "";
  const group = lang === "ru" ? "\u202f" : ",";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const fraction = cents === "00" ? "" : (lang === "ru" ? "," : ".") + cents;
  const symbol = currency === "RUB" ? "₽" : currency;
  return lang === "ru" ? `${sign}${grouped}${fraction}\u00a0${symbol}` : `${sign}${symbol === "₽" ? "₽" : symbol + "\u00a0"}${grouped}${fraction}`;
}

function day(iso) {
  // Noon UTC keeps the calendar date whatever the buyer's time zone.
  return new Date(`${iso}T12:00:00Z`);
}

export function dateRange(from, to, lang) {
  const format = cached(Intl.DateTimeFormat, lang, { day: "numeric", month: "short", timeZone: "UTC" });
  if (from === to) return format.format(day(from));
  return format.formatRange ? format.formatRange(day(from), day(to)) : `${format.format(day(from))} – ${format.format(day(to))}`;
}

export function countryName(code, lang) {
  try {
    return cached(Intl.DisplayNames, lang, { type: "region" }).of(code) || code;
  } catch {
    return code;
  }
}

// A carrier's event keeps the wall-clock time and the offset it was given in
// ("2026-12-08T10:15:00+03:00"): a buyer reads "10:15, Москва" as the carrier's office saw it,
// whatever zone the buyer's browser is in. So the string is read, never converted.
const STAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function eventTime(iso, lang) {
  const m = STAMP.exec(String(iso || ""));
  if (!m) return { date: String(iso || ""), time: "", offset: "" };
  const [, date, hh, mm, zone] = m;
  const format = cached(Intl.DateTimeFormat, lang, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  let offset = "";
  if (zone === "Z") offset = "UTC";
  else if (zone) {
    const [, sign, h, min] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    offset = `UTC${sign === "-" ? "−" : "+"}${Number(h)}${min === "00" ? "" : `:${min}`}`;
  }
  return { date: format.format(day(date)), time: `${hh}:${mm}`, offset };
}
