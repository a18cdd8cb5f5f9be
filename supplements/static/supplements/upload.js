/* The upload page: one file per item, images shrunk in the browser before they are sent, progress while
   sending, the server's answer (accepted or the Vietnamese refusal) shown on the page. Plain script, no
   library, no inline code (the page's CSP allows only this file). Without it the forms still post. */
(function () {
  "use strict";
  var MAX_SIDE = 1600;      // pixels of the longer side after shrinking: enough to read a paper
  var QUALITY = 0.8;        // JPEG quality of the shrunk photo
  var SHRINK_ABOVE = 350 * 1024;  // smaller photos are sent as they are
  var texts = document.getElementById("texts").dataset;
  var maxBytes = parseInt(texts.maxBytes, 10);
  var top = document.getElementById("notice");

  function say(form, message, ok) {
    // The answer under the item's buttons, where the citizen is looking; the page's own notice is hidden.
    var notice = form.querySelector(".notice");
    top.hidden = true;
    notice.textContent = message;
    notice.className = "notice " + (ok ? "ok" : "error");
    notice.hidden = false;
    if (notice.scrollIntoView) { notice.scrollIntoView({block: "nearest"}); }
  }

  function shrink(file, done) {
    // A photo from the camera (often 3-8 MB) becomes a JPEG of at most MAX_SIDE pixels: a few hundred KB.
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size <= SHRINK_ABOVE || !window.URL) {
      return done(file);
    }
    var url = URL.createObjectURL(file);
    var img = new Image();
    img.onload = function () {
      var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
      canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff";  // a transparent PNG gets a white paper behind it
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      if (!canvas.toBlob) { return done(file); }
      canvas.toBlob(function (blob) {
        done(blob && blob.size < file.size ? blob : file, blob && blob.size < file.size ? "anh.jpg" : null);
      }, "image/jpeg", QUALITY);
    };
    img.onerror = function () { URL.revokeObjectURL(url); done(file); };  // the server judges it
    img.src = url;
  }

  function addSent(form, facts) {
    var list = form.parentNode.querySelector("ul.sent");
    var li = document.createElement("li");
    li.setAttribute("data-state", facts.state);
    var a = document.createElement("a");
    a.href = facts.url;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = facts.kind === "pdf" ? texts.pdf : texts.image;
    li.appendChild(a);
    li.appendChild(document.createTextNode(" — " + facts.state_label));
    list.appendChild(li);
  }

  function send(form, input) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var progress = form.querySelector(".progress");
    var bar = progress.querySelector(".bar");
    var label = progress.querySelector(".label");
    var inputs = form.querySelectorAll("input[type=file]");
    function busy(on) {
      for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = on; }
      progress.hidden = !on;
    }
    if (file.type && !/^(image\/|application\/pdf$)/.test(file.type)) {
      input.value = "";
      return say(form, texts.notAllowed, false);
    }
    busy(true);
    bar.style.width = "0";
    label.textContent = texts.shrinking;
    shrink(file, function (blob, name) {
      if (blob.size > maxBytes) {
        busy(false);
        input.value = "";
        return say(form, texts.tooLarge, false);
      }
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("item", form.querySelector("[name=item]").value);
      data.append("file", blob, name || file.name || "tep");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", window.location.pathname);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round(100 * event.loaded / event.total);
          bar.style.width = percent + "%";
          label.textContent = texts.uploading + " " + percent + "%";
        }
      };
      xhr.onload = function () {
        busy(false);
        input.value = "";
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
        if (answer && answer.ok) {
          addSent(form, answer.file);
          say(form, answer.message, true);
        } else {
          say(form, answer && answer.message ? answer.message : (xhr.status === 413 ? texts.tooLarge : texts.network), false);
        }
      };
      xhr.onerror = function () { busy(false); input.value = ""; say(form, texts.network, false); };
      label.textContent = texts.uploading;
      xhr.send(data);
    });
  }

  var forms = document.querySelectorAll("form.upload");
  for (var i = 0; i < forms.length; i++) {
    (function (form) {
      var picks = form.querySelectorAll("input.pick");
      for (var j = 0; j < picks.length; j++) {
        picks[j].addEventListener("change", function (event) { send(form, event.target); });
      }
      form.addEventListener("submit", function (event) { event.preventDefault(); });
    })(forms[i]);
  }
})();
