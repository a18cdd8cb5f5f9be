/* Chuyển xử lý: choosing a department narrows the officer list to that department's officers.
 *
 * The officer <select> names the department select it follows (data-narrowed-by="to_department");
 * each officer <option> carries its department (data-department). Options of other departments are
 * hidden and disabled, and an officer of another department is unselected. Without this script every
 * officer is listed with their department, and the server refuses a mismatch.
 */
(function () {
  "use strict";

  function narrow(officers, department) {
    var chosen = department.value;
    Array.prototype.forEach.call(officers.options, function (option) {
      var of = option.getAttribute("data-department");
      if (of === null) {
        return; // the empty choice ("---------") stays
      }
      var hide = chosen !== "" && of !== chosen;
      option.hidden = hide;
      option.disabled = hide;
      if (hide && option.selected) {
        officers.value = "";
      }
    });
  }

  function setUp() {
    var selects = document.querySelectorAll("select[data-narrowed-by]");
    Array.prototype.forEach.call(selects, function (officers) {
      var form = officers.form;
      var department = form && form.elements.namedItem(officers.getAttribute("data-narrowed-by"));
      if (!department) {
        return;
      }
      department.addEventListener("change", function () {
        narrow(officers, department);
      });
      narrow(officers, department);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
