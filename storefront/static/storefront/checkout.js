// The one script of the checkout: a new card through Stripe Elements. It asks the server for a
// SetupIntent, confirms the card with Stripe.js and posts the payment method id with the form.
// Everything else on the page works without it (the postal-code lookup is a submit button).
(function () {
  "use strict";
  function needsCard(form) {
    var kind = form.querySelector("input[name=payment_kind]:checked");
    if (!kind || kind.value !== "card") return false;
    var saved = form.querySelector("input[name=payment_method_id]:checked");
    return !saved || saved.value === "new";
  }
  function init() {
    var form = document.getElementById("checkout-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var box = document.getElementById("new-card");
    var errors = document.getElementById("card-errors");
    var hidden = document.getElementById("id_stripe_payment_method_id");
    function toggle() { box.style.display = needsCard(form) ? "" : "none"; }
    form.addEventListener("change", toggle);
    toggle();
    var script = document.createElement("script");
    script.src = form.dataset.stripeJs;
    script.onload = function () {
      var stripe = window.Stripe(form.dataset.stripeKey || "pk_test_localstripe");
      var card = stripe.elements().create("card", { hidePostalCode: true });
      card.mount("#card-element");
      form.addEventListener("submit", function (event) {
        var submitter = event.submitter;
        if (!submitter || submitter.name !== "confirm" || !needsCard(form) || hidden.value) return;
        event.preventDefault();
        errors.textContent = "";
        var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
        fetch(form.dataset.setupUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            if (!data.client_secret) throw new Error(data.message || "setup failed");
            return stripe.confirmCardSetup(data.client_secret, { payment_method: { card: card } });
          })
          .then(function (result) {
            if (result.error) throw new Error(result.error.message);
            var pm = result.setupIntent.payment_method;
            hidden.value = typeof pm === "string" ? pm : pm.id;
            var marker = document.createElement("input");
            marker.type = "hidden"; marker.name = "confirm"; marker.value = "1";
            form.appendChild(marker);
            form.submit();
          })
          .catch(function (error) { errors.textContent = error.message; });
      });
    };
    script.onerror = function () { errors.textContent = "Stripe.js could not be loaded."; };
    document.head.appendChild(script);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
