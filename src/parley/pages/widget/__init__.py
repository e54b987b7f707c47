"""The embeddable chat widget and the test chat page: the JSON endpoints browsers call to read a widget's settings
and start chats (:mod:`parley.pages.widget.api`), besides the widget's script and chat window."""
