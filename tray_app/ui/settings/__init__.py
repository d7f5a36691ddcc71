"""The settings window's pages, one class per tab (`Page`: load / check / save / commit), and
the folder editor the first-run wizard shares. The window itself: `ui/settings_window.py`."""
