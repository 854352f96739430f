"""A minimal consumer app of django-nets-core: an e-mail identified user and projects."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Users with e-mail identity (USERNAME_FIELD = "email")."""

    email = models.EmailField("email address", unique=True)
    email_verified = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]


class Project(models.Model):
    name = models.CharField(max_length=150)

    def __str__(self):
        return self.name


class ProjectRole(models.Model):
    name = models.CharField(max_length=150)

    def __str__(self):
        return self.name


class ProjectMember(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    role = models.ForeignKey(ProjectRole, on_delete=models.PROTECT)
    enabled = models.BooleanField(default=True)
    is_superuser = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.user} in {self.project} as {self.role}"
