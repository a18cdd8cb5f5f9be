// The officer's review of files sent online: rotate a photo for viewing (the file itself is never changed),
// look at it full size, accept every file of an item at once. Without JavaScript the radios still work.
(function () {
  "use strict";
  var panel = document.getElementById("supplement-review-panel");
  if (!panel) return;
  var viewer = document.getElementById("supplement-viewer");
  var viewerImage = viewer.querySelector("[data-viewer-image]");
  var viewerOpen = viewer.querySelector("[data-viewer-open]");

  function turn(img) {
    var angle = ((parseInt(img.dataset.rotation || "0", 10) + 90) % 360);
    img.dataset.rotation = String(angle);
    img.style.transform = "rotate(" + angle + "deg)";
  }

  function show(img) {
    viewerImage.src = img.dataset.full;
    viewerImage.alt = img.alt;
    viewerImage.dataset.rotation = img.dataset.rotation || "0";
    viewerImage.style.transform = "rotate(" + viewerImage.dataset.rotation + "deg)";
    viewerOpen.href = img.dataset.full;
    viewer.showModal();
  }

  function thumbnail(pk) {
    return panel.querySelector('[data-file="' + pk + '"] [data-thumbnail]');
  }

  panel.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches("[data-rotate]")) {
      turn(thumbnail(target.dataset.rotate));
    } else if (target.matches("[data-view]")) {
      show(thumbnail(target.dataset.view));
    } else if (target.matches("[data-thumbnail]")) {
      show(target);
    } else if (target.matches("[data-viewer-rotate]")) {
      turn(viewerImage);
    } else if (target.matches("[data-viewer-close]")) {
      viewer.close();
    } else if (target.matches("[data-accept-item]")) {
      panel.querySelectorAll('input[value="accept"][data-item-of="' + target.dataset.acceptItem + '"]').forEach(
        function (radio) { radio.checked = true; }
      );
    }
  });
  // Typing a reason chooses "not accepted" for that file.
  panel.addEventListener("input", function (event) {
    var match = event.target.name && event.target.name.match(/^reason_(\d+)$/);
    if (match && event.target.value.trim()) {
      var refuse = panel.querySelector('input[name="decision_' + match[1] + '"][value="refuse"]');
      if (refuse) refuse.checked = true;
    }
  });
})();
