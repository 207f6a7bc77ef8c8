// Adds a card with Stripe Elements: ask the server for a SetupIntent, confirm the card with
// Stripe.js, then post the resulting payment method id with the page's ordinary form.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("card-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var errors = document.getElementById("card-errors");
    var script = document.createElement("script");
    script.src = form.dataset.stripeJs;
    script.onload = function () {
      var stripe = window.Stripe(form.dataset.stripeKey || "pk_test_localstripe");
      var elements = stripe.elements();
      var card = elements.create("card", { hidePostalCode: true });
      card.mount("#card-element");
      form.addEventListener("submit", function (event) {
        if (document.getElementById("stripe_payment_method_id").value) return;
        event.preventDefault();
        errors.textContent = "";
        var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
        fetch(form.dataset.setupUrl, {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf },
        })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            if (!data.client_secret) throw new Error(data.message || "setup failed");
            return stripe.confirmCardSetup(data.client_secret, { payment_method: { card: card } });
          })
          .then(function (result) {
            if (result.error) throw new Error(result.error.message);
            var pm = result.setupIntent.payment_method;
            document.getElementById("stripe_payment_method_id").value = typeof pm === "string" ? pm : pm.id;
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
  document.addEventListener("htmx:afterSettle", init);
})();
