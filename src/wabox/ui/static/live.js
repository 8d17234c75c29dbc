// One Server-Sent Events stream per page: on "change", every part of the page that shows
// stored data fetches itself again (hx-trigger="wabox-change from:body").
(function () {
  "use strict";
  var dot = document.getElementById("live");
  function connect() {
    var source = new EventSource("/ui/events");
    source.addEventListener("open", function () { if (dot) dot.classList.add("on"); });
    source.addEventListener("error", function () { if (dot) dot.classList.remove("on"); });
    source.addEventListener("change", function () {
      htmx.trigger(document.body, "wabox-change");
    });
  }
  // Enter sends, Shift+Enter makes a new line.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.matches && target.matches(".composer textarea") && event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      htmx.trigger(target.form, "submit");
    }
  });
  // "Reply" on a business message quotes it in the composer.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.reply");
    var form = document.querySelector(".composer");
    if (button && form) {
      form.querySelector("input[name=reply_to]").value = button.dataset.reply;
      var box = form.querySelector(".replying");
      box.hidden = false;
      box.querySelector("span").textContent = "Replying to: " + button.dataset.preview;
      form.querySelector("textarea").focus();
    }
    var cancel = event.target.closest && event.target.closest("button.cancel-reply");
    if (cancel && form) {
      form.querySelector("input[name=reply_to]").value = "";
      form.querySelector(".replying").hidden = true;
    }
  });
  // After a send: no reply pending, no file shown.
  document.addEventListener("reset", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(".composer")) return;
    form.querySelector("input[name=reply_to]").value = "";
    form.querySelector(".replying").hidden = true;
    form.querySelector(".file-name").textContent = "";
  });
  // Show which file is attached (the input itself is visually hidden behind the clip).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches(".attach input[type=file]")) {
      var name = input.closest(".attach").querySelector(".file-name");
      name.textContent = input.files.length ? input.files[0].name : "";
    }
  });
  // Keep the newest message in view after each swap of the chat.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "chat") {
      scrollDown();
      typingEnds();
    }
  });
  // The business's typing indicator goes when its time is up (or the chat is redrawn).
  function typingEnds() {
    document.querySelectorAll(".typing[data-for]").forEach(function (shown) {
      setTimeout(function () { shown.remove(); }, parseFloat(shown.dataset.for) * 1000);
    });
  }
  function scrollDown() {
    var list = document.querySelector(".messages");
    if (list) list.scrollTop = list.scrollHeight;
  }
  // A picture that loads late grows the list: stay at the bottom if the reader was there.
  document.addEventListener("load", function (event) {
    var list = document.querySelector(".messages");
    if (!list || !list.contains(event.target)) return;
    if (list.scrollHeight - list.scrollTop - list.clientHeight < event.target.offsetHeight + 80) {
      scrollDown();
    }
  }, true);
  document.addEventListener("DOMContentLoaded", function () { scrollDown(); typingEnds(); connect(); });
})();
