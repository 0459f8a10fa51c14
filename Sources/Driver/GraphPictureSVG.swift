import Foundation

/// Draws a `GraphPicture` as a self-contained SVG, and as an HTML page around it with a
/// search box and a details panel; nothing is loaded from elsewhere.
///
/// Boxes are `<g class="node" id="nI" data-op=… data-name=…>` (convs also carry
/// `data-epilogue` and `data-kernel`); edges are `<path class="edge">`, shortcut edges
/// `<path class="edge shortcut">`, each with `data-from` and `data-to`.
struct GraphPictureSVG {
  let picture: GraphPicture
  /// Lines of the tallest box, which sets the pitch of every row.
  private let maxLines: Int

  init(picture: GraphPicture) {
    self.picture = picture
    maxLines = picture.boxes.map { picture.lines($0).count }.max() ?? 1
  }

  private let boxWidth = 264
  private let lineHeight = 14
  private let columnGap = 44
  private let rowGap = 26
  private let left = 150  // room for shortcut edges bowing out to the left
  private let top = 64
  private let charactersPerLine = 38

  private var rowPitch: Int { boxHeight(lines: maxLines) + rowGap }
  private var columnPitch: Int { boxWidth + columnGap }
  private func boxHeight(lines: Int) -> Int { lines * lineHeight + 10 }
  private func x(_ box: GraphPicture.Box) -> Int { left + box.column * columnPitch }
  private func y(_ box: GraphPicture.Box) -> Int { top + box.rank * rowPitch }
  private func height(_ box: GraphPicture.Box) -> Int { boxHeight(lines: picture.lines(box).count) }

  var width: Int { max(left + max(picture.columnCount, 1) * columnPitch + 40, 16 + 7 * summary.count) }
  var height: Int { top + max(picture.rankCount, 1) * rowPitch + 20 }

  /// The standalone SVG document.
  var svg: String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svgElement
  }

  /// The `<svg>` element, for the file or inlined in the page.
  var svgElement: String {
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
      font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">
      <style>
      .node rect { stroke: #4b5563; stroke-width: 1; }
      .node.output rect { stroke: #111827; stroke-width: 2.5; }
      .node .name { font-weight: bold; }
      .edge { fill: none; stroke: #6b7280; stroke-width: 1.2; marker-end: url(#arrow); }
      .edge.shortcut { stroke: #c0392b; stroke-width: 2; stroke-dasharray: 6 3; marker-end: url(#arrow-shortcut); }
      .node.hit rect { stroke: #2563eb; stroke-width: 3; }
      .dim { opacity: 0.25; }
      </style>
      <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker>
      <marker id="arrow-shortcut" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker>
      </defs>
      <rect width="100%" height="100%" fill="#ffffff"/>

      """
    out += "<text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(xml(picture.name))</text>\n"
    out += "<text x=\"16\" y=\"44\" fill=\"#374151\">\(xml(summary))</text>\n"
    for edge in picture.edges { out += path(edge) }
    for (i, box) in picture.boxes.enumerated() { out += group(i, box) }
    return out + "</svg>\n"
  }

  /// The line under the title: counts, the legend, the profile's total.
  var summary: String {
    let counts = picture.opCounts
    let convs = counts["conv2d"] ?? 0
    let shortcuts = picture.edges.filter(\.isShortcut).count
    var text =
      "\(picture.boxes.count) boxes (\(convs) conv2d), \(picture.edges.count) edges, \(shortcuts) shortcuts (red, dashed)"
    if let total = picture.profiledMilliseconds {
      text += "; colour: time per run, " + formatMilliseconds(total) + " in all"
    }
    return text
  }

  /// The HTML page: the SVG, a search box (name, op, shape, kernel; Enter goes to the next
  /// match; `page.html#text` opens with that search) and a panel that shows a clicked box in
  /// full.
  var html: String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>\(xml(picture.name)) — resnetc view</title>
    <style>
    body { margin: 0; font-family: system-ui, sans-serif; background: #f9fafb; }
    header { position: sticky; top: 0; z-index: 2; background: #111827; color: #f9fafb; padding: 8px 14px;
             display: flex; gap: 14px; align-items: center; }
    header input { font: inherit; padding: 3px 8px; width: 30em; }
    #details { position: fixed; right: 12px; top: 52px; z-index: 2; max-width: 34em; background: #ffffff;
               border: 1px solid #9ca3af; padding: 8px 12px; white-space: pre-wrap; font-family: monospace;
               font-size: 12px; display: none; }
    main { overflow: auto; }
    .node { cursor: pointer; }
    </style>
    </head>
    <body>
    <header><strong>\(xml(picture.name))</strong><input id="search" type="search" \
    placeholder="search: name, op, shape, kernel (Enter: next)"><span id="count"></span></header>
    <pre id="details"></pre>
    <main>
    \(svgElement)</main>
    <script>
    const nodes = Array.from(document.querySelectorAll('g.node'));
    const search = document.getElementById('search'), count = document.getElementById('count');
    const details = document.getElementById('details');
    let hits = [], at = -1;
    search.addEventListener('input', () => {
      const q = search.value.trim().toLowerCase();
      hits = [];
      at = -1;
      for (const n of nodes) {
        const hit = q !== '' && n.querySelector('title').textContent.toLowerCase().includes(q);
        n.classList.toggle('hit', hit);
        n.classList.toggle('dim', q !== '' && !hit);
        if (hit) hits.push(n);
      }
      count.textContent = q === '' ? '' : hits.length + ' found';
    });
    search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || hits.length === 0) return;
      at = (at + 1) % hits.length;
      hits[at].scrollIntoView({block: 'center', inline: 'center'});
      count.textContent = (at + 1) + ' of ' + hits.length;
    });
    for (const n of nodes) n.addEventListener('click', () => {
      details.textContent = n.querySelector('title').textContent;
      details.style.display = 'block';
    });
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') details.style.display = 'none'; });
    if (location.hash.length > 1) {
      search.value = decodeURIComponent(location.hash.slice(1));
      search.dispatchEvent(new Event('input'));
      search.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}));
    }
    </script>
    </body>
    </html>

    """
  }

  private func group(_ i: Int, _ box: GraphPicture.Box) -> String {
    let lines = picture.lines(box)
    var attributes =
      "class=\"node\(box.isOutput ? " output" : "")\" id=\"n\(i)\" data-op=\"\(xml(box.op))\" data-name=\"\(xml(box.name))\""
    if box.op == "conv2d" { attributes += " data-epilogue=\"\(xml(box.epilogue))\" data-kernel=\"\(xml(box.kernel))\"" }
    if let ms = box.milliseconds { attributes += " data-ms=\"\(String(format: "%.6f", ms))\"" }
    var title = lines
    if !box.layout.isEmpty { title.insert("layout " + box.layout, at: min(3, title.count)) }
    var out = "<g \(attributes)>\n<title>\(xml(title.joined(separator: "\n")))</title>\n"
    out +=
      "<rect x=\"\(x(box))\" y=\"\(y(box))\" width=\"\(boxWidth)\" height=\"\(height(box))\" rx=\"6\" fill=\"\(fill(box))\"/>\n"
    for (n, line) in lines.enumerated() {
      let baseline = y(box) + 5 + lineHeight * (n + 1) - 3
      out +=
        "<text x=\"\(x(box) + 7)\" y=\"\(baseline)\"\(n == 0 ? " class=\"name\"" : "")>\(xml(clipped(line)))</text>\n"
    }
    return out + "</g>\n"
  }

  /// An edge: straight down within a column, out to the left and back for a shortcut that
  /// skips rows of its column (to the right for other long edges), a curve across columns.
  private func path(_ edge: GraphPicture.Edge) -> String {
    let from = picture.boxes[edge.from], to = picture.boxes[edge.to]
    let span = to.rank - from.rank
    let d: String
    if from.column == to.column && span > 1 {
      let bow = 36 + 14 * min(span, 6)
      let (sx, ex) = edge.isShortcut ? (x(from), x(to)) : (x(from) + boxWidth, x(to) + boxWidth)
      let out = edge.isShortcut ? -bow : bow
      let sy = y(from) + height(from) / 2, ey = y(to) + height(to) / 2
      d = "M\(sx),\(sy) C\(sx + out),\(sy) \(ex + out),\(ey) \(ex),\(ey)"
    } else {
      let sx = x(from) + boxWidth / 2, sy = y(from) + height(from)
      let ex = x(to) + boxWidth / 2, ey = y(to)
      if from.column == to.column {
        d = "M\(sx),\(sy) L\(ex),\(ey)"
      } else {
        let bendTop = ey - rowGap - (rowPitch - rowGap) / 2
        let straight = span > 1 ? "L\(sx),\(bendTop) " : ""
        let startY = span > 1 ? bendTop : sy
        let middle = (startY + ey) / 2
        d = "M\(sx),\(sy) \(straight)C\(sx),\(middle) \(ex),\(middle) \(ex),\(ey)"
      }
    }
    return
      "<path class=\"edge\(edge.isShortcut ? " shortcut" : "")\" data-from=\"n\(edge.from)\" data-to=\"n\(edge.to)\" d=\"\(d)\"/>\n"
  }

  /// A box's colour: by op, or by its share of the slowest box's time when profiled.
  private func fill(_ box: GraphPicture.Box) -> String {
    if picture.profiledMilliseconds != nil {
      guard let heat = picture.heat(box) else { return "#f3f4f6" }
      let g = Int(245 - 170 * heat), b = Int(235 - 200 * heat)
      return "rgb(255,\(g),\(b))"
    }
    return opColour(box.op)
  }

  private func clipped(_ line: String) -> String {
    line.count <= charactersPerLine ? line : String(line.prefix(charactersPerLine - 1)) + "…"
  }
}

/// A box's colour by its op's kind.
func opColour(_ op: String) -> String {
  switch op {
  case "input": "#e5e7eb"
  case "conv2d": "#dbeafe"
  case "batch_norm", "scale_shift": "#ede9fe"
  case "relu", "clip", "add", "mul": "#fef3c7"
  case "max_pool2d", "avg_pool2d", "global_avg_pool": "#dcfce7"
  case "dense", "softmax": "#fce7f3"
  default: "#f3f4f6"
  }
}

/// `text` for XML character data and attribute values; characters XML cannot hold become U+FFFD.
func xml(_ text: String) -> String {
  var out = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    case "\n": out += "&#10;"
    case _ where (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
      out += "\u{FFFD}"
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out
}
