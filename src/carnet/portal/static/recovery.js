// The reset link carries its token after "#", which never reaches the server: copy it into the form, hide
// the field the patient would otherwise paste it into, and take it out of the address bar and the history.
(function () {
  "use strict";
  var token = window.location.hash.slice(1);
  var input = document.getElementById("token");
  if (!token || !input) {
    return;
  }
  input.value = token;
  var wrapper = document.getElementById("token-field");
  if (wrapper && !wrapper.classList.contains("invalid")) {
    wrapper.hidden = true;
  }
  window.history.replaceState(null, "", window.location.pathname);
})();
