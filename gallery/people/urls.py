from django.urls import path

from gallery.people import views

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person_change, name="person-change"),
    path("people/invites/<int:pk>/revoke/", views.invite_revoke, name="invite-revoke"),
    # Public: the token is the key.
    path("invite/<str:token>/", views.accept_invite, name="invite"),
]
