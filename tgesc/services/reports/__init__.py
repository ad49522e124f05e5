"""Reports: what happened on the desk in a period, from the stored measures and the audit log (`tgesc report`), and
the HTML page that draws them."""
