// Small enhancements only; every page works without this file.
(function () {
  // The SSO landing's new tab: go on to AWS's verification page by itself.
  var target = document.querySelector("a[data-redirect]");
  if (target) {
    window.location.replace(target.href);
    return;
  }
  // Account settings: ask for start URL and region only while "SSO account" is checked.
  var box = document.getElementById("sso");
  var fields = document.getElementById("sso-fields");
  if (box && fields) {
    var sync = function () {
      fields.hidden = !box.checked;
      ["start_url", "sso_region"].forEach(function (id) {
        document.getElementById(id).required = box.checked;
      });
    };
    box.addEventListener("change", sync);
    sync();
  }
})();
