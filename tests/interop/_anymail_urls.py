"""The URLconf anymail's docs show: its webhook URLs under /anymail/."""

from django.urls import include, path

urlpatterns = [path("anymail/", include("anymail.urls"))]
