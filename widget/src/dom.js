// The whole of the widget's DOM building: no framework, so the script stays small.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false && child !== "") el.append(child);
  }
  return el;
}

// A shop's form must never be submitted by a widget button.
export function button(attrs, ...children) {
  return h("button", { type: "button", ...attrs }, ...children);
}
