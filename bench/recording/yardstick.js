// A yardstick, not a recorder: the least that a DOM replay needs done per mutation
// (an id per node, added nodes serialised with their attributes and children, removed
// ones named, changed texts and attributes, each batch encoded as JSON), in the shape
// of rrweb's mutation events but with none of what makes a recording safe and whole:
// no masking, no blocked elements, no stylesheets, no shadow DOM or iframes, no
// moved nodes. run.mjs measures it beside rrweb to show how far any recorder that
// observes every mutation could go below rrweb's cost on the same page.
(function () {
  var ids = new WeakMap();
  var next = 1;
  function idOf(n) {
    var i = ids.get(n);
    if (!i) ids.set(n, (i = next++));
    return i;
  }
  function serialise(n) {
    var id = idOf(n);
    if (n.nodeType === 3) return { type: 3, textContent: n.nodeValue, id: id };
    if (n.nodeType !== 1) return { type: 5, textContent: '', id: id };
    var attributes = {};
    for (var k = 0; k < n.attributes.length; k++) attributes[n.attributes[k].name] = n.attributes[k].value;
    var childNodes = [];
    for (var c = n.firstChild; c; c = c.nextSibling) childNodes.push(serialise(c));
    return { type: 2, tagName: n.localName, attributes: attributes, childNodes: childNodes, id: id };
  }
  (function walk(n) {
    idOf(n);
    for (var c = n.firstChild; c; c = c.nextSibling) walk(c);
  })(document);
  var kept = [];
  new MutationObserver(function (records) {
    var adds = [], removes = [], texts = [], changed = new Map(), added = new Set();
    records.forEach(function (m) {
      if (m.type === 'childList') {
        m.addedNodes.forEach(function (n) { added.add(n); });
        m.removedNodes.forEach(function (n) {
          if (added.has(n)) added.delete(n);
          else removes.push({ parentId: idOf(m.target), id: idOf(n) });
        });
      } else if (m.type === 'characterData') {
        texts.push({ id: idOf(m.target), value: m.target.nodeValue });
      } else {
        var a = changed.get(m.target);
        if (!a) changed.set(m.target, (a = {}));
        a[m.attributeName] = m.target.getAttribute(m.attributeName);
      }
    });
    added.forEach(function (n) {
      if (n.isConnected) adds.push({ parentId: idOf(n.parentNode), nextId: n.nextSibling ? idOf(n.nextSibling) : null, node: serialise(n) });
    });
    var attributes = [];
    changed.forEach(function (a, n) { attributes.push({ id: idOf(n), attributes: a }); });
    kept.push(JSON.stringify({ type: 3, timestamp: Date.now(), data: { source: 0, adds: adds, removes: removes, texts: texts, attributes: attributes } }));
    if (kept.length >= 1000) kept = [];
  }).observe(document, { attributes: true, attributeOldValue: true, characterData: true, characterDataOldValue: true, childList: true, subtree: true });
})();
