// The destination city: an ARIA 1.2 combobox with a listbox popup, filled from /v1/places.
import { isAbort } from "./api.js";
import { h } from "./dom.js";
import { countryName } from "./i18n.js";

const DEBOUNCE_MS = 120;
const SUGGESTIONS = 8;

export function placeName(place, lang) {
  return lang === "ru" ? place.name_ru || place.name : place.name;
}

export function createCombobox({ t, lang, api, on, later, onChoose, country }) {
  const input = h("input", {
    id: "cr-city",
    class: "cr-input",
    type: "text",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "cr-cities",
    autocomplete: "off",
    autocapitalize: "words",
    spellcheck: "false",
    placeholder: t.cityHint,
  });
  const list = h("ul", { id: "cr-cities", class: "cr-pop", role: "listbox", "aria-label": t.cityList, hidden: true });
  const status = h("span", { class: "cr-vh", role: "status" });
  const el = h(
    "div",
    { class: "cr-field" },
    h("label", { class: "cr-label", for: "cr-city", text: t.city }),
    h("div", { class: "cr-combo" }, input, list),
    status,
  );

  let items = [];
  let active = -1;
  let pending = null;
  let cancelTimer = null;

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) setActive(-1);
  }

  function setActive(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `cr-city-${index}`);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render() {
    list.replaceChildren(
      ...items.map((place, i) =>
        h(
          "li",
          { id: `cr-city-${i}`, role: "option", "aria-selected": "false", class: "cr-opt", "data-index": i },
          h("span", { class: "cr-opt-name", text: placeName(place, lang) }),
          h("span", { class: "cr-opt-sub", text: countryName(place.country, lang) }),
        ),
      ),
    );
    active = -1;
    status.textContent = items.length ? t.cities(items.length) : t.noCity;
    setOpen(items.length > 0);
  }

  async function search(query) {
    if (pending) pending.abort();
    const controller = (pending = new AbortController());
    try {
      const body = await api.get("v1/places", { q: query, limit: SUGGESTIONS, country }, controller.signal);
      if (input.value.trim() !== query) return;
      items = body.places;
      render();
    } catch (error) {
      if (!isAbort(error)) setOpen(false);
    }
  }

  function choose(index) {
    const place = items[index];
    if (!place) return;
    input.value = placeName(place, lang);
    setOpen(false);
    status.textContent = "";
    onChoose(place);
  }

  on(input, "input", () => {
    if (cancelTimer) cancelTimer();
    const query = input.value.trim();
    if (!query) {
      if (pending) pending.abort();
      items = [];
      setOpen(false);
      return;
    }
    cancelTimer = later(() => search(query), DEBOUNCE_MS);
  });

  on(input, "keydown", (event) => {
    const open = !list.hidden;
    const n = items.length;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!n) return;
        if (!open) setOpen(true);
        setActive(event.altKey && !open ? -1 : (active + 1) % n);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!n) return;
        if (!open) setOpen(true);
        setActive(active <= 0 ? n - 1 : active - 1);
        break;
      case "Enter":
        // The input lives in the shadow tree, outside the shop's form, but a keyboard user's
        // Enter must still only ever pick a city.
        event.preventDefault();
        if (open && n) choose(active >= 0 ? active : 0);
        break;
      case "Escape":
        if (open) {
          event.preventDefault();
          event.stopPropagation();
          setOpen(false);
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
        }
        break;
      default:
    }
  });

  on(input, "blur", () => setOpen(false));
  // mousedown would move focus out of the input and close the list before the click lands.
  on(list, "mousedown", (event) => event.preventDefault());
  on(list, "click", (event) => {
    const li = event.target.closest("li[data-index]");
    if (li) choose(Number(li.dataset.index));
  });

  return {
    el,
    input,
    setText(text) {
      input.value = text;
    },
  };
}
