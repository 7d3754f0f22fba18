"""Word search: a static index of the phrases coders search with, built per code set, read by the
browser (themes/default/static/search.js) and by Python (`generator.words.reader`)."""
