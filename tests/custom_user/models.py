from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class EmailUserManager(BaseUserManager):
    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class EmailUser(AbstractBaseUser):
    """No is_staff / is_superuser and a UUID-free integer key: the bare minimum Django allows."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    preferences = models.JSONField(default=dict, blank=True)  # a mutable value the caches must copy

    objects = EmailUserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
