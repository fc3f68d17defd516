"""What the tests share: builders of test data, content/ trees, the browser, nginx, the admin's text."""
