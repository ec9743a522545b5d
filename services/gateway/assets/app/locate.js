// "Use my location" on the report form: the phone's position goes into the
// form's hidden latitude and longitude, and the nearest courtyard of the
// resident's community is chosen. Without this script (or without a
// position) the form works the same: the resident picks the courtyard.
'use strict';
(function () {
  var row = document.getElementById('locate-row');
  var button = document.getElementById('locate');
  var status = document.getElementById('locate-status');
  var select = document.getElementById('courtyard');
  if (!row || !button || !status || !select || !('geolocation' in navigator)) return;
  row.hidden = false;

  // Metres between two points; an equirectangular estimate is exact
  // enough within a street.
  function metres(lat1, lng1, lat2, lng2) {
    var rad = Math.PI / 180;
    var x = (lng2 - lng1) * rad * Math.cos(((lat1 + lat2) / 2) * rad);
    var y = (lat2 - lat1) * rad;
    return Math.sqrt(x * x + y * y) * 6371000;
  }

  function say(template, values) {
    status.textContent = template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? '' : values[key];
    });
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    say(button.dataset.locating, {});
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var lat = position.coords.latitude;
        var lng = position.coords.longitude;
        document.getElementById('latitude').value = lat.toFixed(6);
        document.getElementById('longitude').value = lng.toFixed(6);
        var best = null;
        var bestDistance = Infinity;
        Array.prototype.forEach.call(select.options, function (option) {
          if (!option.dataset.lat) return;
          var d = metres(lat, lng, parseFloat(option.dataset.lat), parseFloat(option.dataset.lng));
          if (d < bestDistance) {
            best = option;
            bestDistance = d;
          }
        });
        if (best) select.value = best.value;
        say(button.dataset.located, {
          courtyard: best ? best.textContent : '',
          accuracy: Math.round(position.coords.accuracy)
        });
        button.disabled = false;
      },
      function () {
        say(button.dataset.failed, {});
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
