"""The EMA teacher: its update rule, and that it stays out of the student's graph, optimizer and saved files."""

import torch
from torch import nn

from modeling_avssl.method.teacher import EMATeacher


def test_the_teacher_moves_a_fraction_of_the_way_to_the_student():
    student = nn.Linear(2, 1)
    with torch.no_grad():
        student.weight.fill_(1.0)
    teacher = EMATeacher(student, decay=0.9)
    with torch.no_grad():
        student.weight.fill_(2.0)
    teacher.update(student)
    assert torch.allclose(teacher.model.weight, torch.full((1, 2), 0.9 * 1.0 + 0.1 * 2.0))
    teacher.update(student)
    assert torch.allclose(teacher.model.weight, torch.full((1, 2), 0.9 * 1.1 + 0.1 * 2.0))


def test_buffers_are_copied_and_no_gradient_reaches_the_teacher():
    student = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    teacher = EMATeacher(student)
    student(torch.randn(8, 2)).sum().backward()
    teacher.update(student)
    assert torch.equal(teacher.model[1].running_mean, student[1].running_mean)
    output = teacher(torch.randn(4, 2))
    assert not output.requires_grad and all(p.grad is None for p in teacher.model.parameters())
    assert not any(p is q for p in teacher.model.parameters() for q in student.parameters())


def test_copy_makes_the_teacher_the_student_exactly():
    student = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    teacher = EMATeacher(student, decay=0.99)
    with torch.no_grad():
        for parameter in student.parameters():
            parameter.add_(torch.randn_like(parameter))
    student(torch.randn(8, 3))
    teacher.copy(student)
    for own, followed in zip(teacher.model.state_dict().values(), student.state_dict().values()):
        assert torch.equal(own, followed)
